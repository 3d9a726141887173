"""A local HTTP server standing in for the Hugging Face Hub endpoints that `demos deploy` uses.

It answers the requests huggingface_hub 2.x really sends for whoami, create_repo,
upload_folder (validate-yaml, preupload, the LFS batch API and upload, tree listing,
commit), repo_info, get_space_runtime, request_space_hardware and fetch_space_logs, keeps
the Space's files in memory, and records every request so tests can assert on what
arrived. Point huggingface_hub at it with HF_ENDPOINT (or `huggingface_hub.constants.ENDPOINT`)
and HF_HUB_DISABLE_XET=1 (the stand-in speaks plain LFS, not Xet).

It checks the client side only: the routes and payloads follow huggingface_hub's source,
not the Hub's server, so a change on the Hub's side goes unnoticed here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

GOOD_TOKEN = "hf_stubGoodToken1234567890abcdef"

# The stages a Space goes through after a commit, before its final stage.
BUILD_STAGES = ("BUILDING", "APP_STARTING")
# Fields the Hub requires in a Gradio Space's YAML header.
REQUIRED_SPACE_FIELDS = ("sdk", "app_file")
SPACE_COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


@dataclass
class Request:
    """One request as it arrived."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Commit:
    sha: str
    summary: str
    added: list[str]  # regular files
    lfs: list[str]  # LFS pointers
    deleted: list[str]


@dataclass
class Space:
    repo_id: str
    sdk: str
    private: bool
    hardware: str | None  # requested flavor
    files: dict[str, bytes] = field(default_factory=dict)
    lfs_paths: set[str] = field(default_factory=set)
    commits: list[Commit] = field(default_factory=list)
    polls_since_commit: int = 0

    @property
    def sha(self) -> str:
        return self.commits[-1].sha if self.commits else "0" * 40


class HubStub:
    """The fake Hub. Configure it through the attributes, then read `requests`/`spaces`.

    users: token -> user name; orgs: user name -> organisations they can write to.
    read_only_users: users whose token may read but not write (answered with 403).
    refused_hardware: flavors the account's plan doesn't allow (answered with 402).
    outcome: the stage a Space reaches after a commit (RUNNING, BUILD_ERROR, ...).
    build_log: the lines the build-logs stream replays.
    hosts: repo id -> the app's address the Space's info gives as `host` (the real Hub
    answers with its own; without an entry the stub guesses OWNER-NAME.hf.space, lower case).
    host_in_info: False answers the Space's info without `host`/`subdomain`.
    """

    def __init__(self) -> None:
        self.users = {GOOD_TOKEN: "alice"}
        self.orgs = {"alice": ["book-club"]}
        self.read_only_users: set[str] = set()  # tokens that can read but not write
        self.refused_hardware: set[str] = set()
        self.outcome = "RUNNING"
        self.build_polls = len(BUILD_STAGES)
        self.build_log = ["Step 1/3 : FROM python:3.11", "Successfully built"]
        self.hosts: dict[str, str] = {}
        self.host_in_info = True
        self.spaces: dict[str, Space] = {}
        self.lfs_store: dict[str, bytes] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle --------------------------------------------------------------------
    def start(self) -> HubStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate writes: with Nagle's algorithm on, each
            # answer waits for the client's delayed ACK (tens of ms, every request).
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep pytest's output clean
                pass

            def _handle(self):
                stub._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # serve_forever checks for shutdown every poll_interval (0.5 s by default): each test
        # that stops a stub would wait that long.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ---- helpers for tests ------------------------------------------------------------
    def add_space(self, repo_id: str, files: dict[str, bytes], hardware="cpu-basic") -> Space:
        """A Space that already exists on the fake Hub, with one commit holding `files`."""
        space = Space(repo_id=repo_id, sdk="gradio", private=False, hardware=hardware)
        space.files.update(files)
        space.commits.append(Commit(_sha(repo_id, files), "initial", sorted(files), [], []))
        space.polls_since_commit = 10**6  # long since built
        self.spaces[repo_id] = space
        return space

    def paths(self, method: str | None = None) -> list[str]:
        """The paths asked for, without huggingface_hub's own once-per-process lookup of
        /api/agent-harnesses (best effort: whichever test calls the Hub first makes it)."""
        return [
            r.path
            for r in self.requests
            if (method is None or r.method == method) and r.path != "/api/agent-harnesses"
        ]

    # ---- routing ----------------------------------------------------------------------
    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(handler.rfile)
        request = Request(
            method=handler.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(request)
            status, payload, headers = self._route(request)
        if isinstance(payload, (dict, list)):
            data = json.dumps(payload).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            data = payload
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, r: Request):
        repo = r"(?P<repo>[^/]+/[^/]+)"
        routes = [
            ("GET", r"/api/whoami-v2", self._whoami),
            ("POST", r"/api/repos/create", self._create),
            ("POST", r"/api/validate-yaml", self._validate_yaml),
            ("GET", rf"/api/spaces/{repo}/runtime", self._runtime),
            ("POST", rf"/api/spaces/{repo}/hardware", self._hardware),
            ("GET", rf"/api/spaces/{repo}/logs/(?P<kind>build|run)", self._logs),
            ("POST", rf"/api/spaces/{repo}/preupload/(?P<rev>[^/]+)", self._preupload),
            ("GET", rf"/api/spaces/{repo}/tree/(?P<rev>[^/]+)(?P<sub>/.*)?", self._tree),
            ("POST", rf"/api/spaces/{repo}/commit/(?P<rev>[^/]+)", self._commit),
            ("GET", rf"/api/spaces/{repo}(/revision/(?P<rev>[^/]+))?", self._info),
            ("POST", rf"/spaces/{repo}\.git/info/lfs/objects/batch", self._lfs_batch),
            ("PUT", r"/lfs-upload/(?P<oid>[0-9a-f]{64})", self._lfs_put),
        ]
        for method, pattern, view in routes:
            match = re.fullmatch(pattern, r.path)
            if match and method == r.method:
                return view(r, **{k: v for k, v in match.groupdict().items() if v is not None})
        return 404, {"error": f"stub: no route for {r.method} {r.path}"}, {}

    # ---- auth -------------------------------------------------------------------------
    def _user(self, r: Request) -> str | None:
        auth = r.headers.get("authorization", "")
        return self.users.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None

    def _unauthorized(self):
        return 401, {"error": "Invalid credentials in Authorization header"}, {}

    def _can_write(self, user: str, repo_id: str) -> bool:
        owner = repo_id.split("/")[0]
        if user in self.read_only_users:
            return False
        return owner == user or owner in self.orgs.get(user, [])

    def _space_or_error(self, r: Request, repo: str, *, write: bool):
        """(user, space, None) or (None, None, error response)."""
        user = self._user(r)
        if user is None:
            return None, None, self._unauthorized()
        space = self.spaces.get(repo)
        if space is None or (space.private and not self._can_write(user, repo)):
            return (
                None,
                None,
                (404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"}),
            )
        if write and not self._can_write(user, repo):
            message = f"You don't have the rights to write to {repo}"
            return None, None, (403, {"error": message}, {})
        return user, space, None

    # ---- views ------------------------------------------------------------------------
    def _whoami(self, r: Request):
        user = self._user(r)
        if user is None:
            return self._unauthorized()
        orgs = [{"name": org, "type": "org"} for org in self.orgs.get(user, [])]
        return (
            200,
            {"type": "user", "name": user, "orgs": orgs, "auth": {"type": "access_token"}},
            {},
        )

    def _create(self, r: Request):
        user = self._user(r)
        if user is None:
            return self._unauthorized()
        body = r.json()
        owner = body.get("organization") or user
        repo_id = f"{owner}/{body['name']}"
        if body.get("type") != "space":
            return 400, {"error": "stub: only Spaces are supported"}, {}
        if not self._can_write(user, repo_id):
            message = f'You don\'t have the rights to create a space under the namespace "{owner}"'
            return 403, {"error": message}, {}
        url = f"{self.url}/spaces/{repo_id}"
        if repo_id in self.spaces:
            return 409, {"error": "You already created this space repo", "url": url}, {}
        hardware = body.get("hardware")
        if hardware in self.refused_hardware:
            message = f"Subscribe to PRO to use {hardware} hardware for Gradio Spaces"
            return 402, {"error": message}, {}
        private = body.get("visibility") == "private" or bool(body.get("private"))
        self.spaces[repo_id] = Space(repo_id, body.get("sdk"), private, hardware)
        return 200, {"url": url, "name": repo_id}, {}

    def _validate_yaml(self, r: Request):
        content = r.json()["content"]
        match = re.match(r"---\n(.*?)\n---\n", content, re.S)
        errors = []
        if not match:
            errors.append({"message": "README.md has no YAML header"})
        else:
            try:
                meta = yaml.safe_load(match[1]) or {}
            except yaml.YAMLError as err:
                meta, errors = {}, [{"message": f"invalid YAML: {err}"}]
            errors += [
                {"message": f'"{k}" is required'} for k in REQUIRED_SPACE_FIELDS if k not in meta
            ]
            for key in ("colorFrom", "colorTo"):
                if key in meta and meta[key] not in SPACE_COLORS:
                    errors.append({"message": f'"{key}" must be one of {sorted(SPACE_COLORS)}'})
            if len(str(meta.get("short_description", ""))) > 60:
                errors.append({"message": '"short_description" must be at most 60 characters'})
        if errors:
            return 400, {"errors": errors}, {}
        return 200, {"warnings": []}, {}

    def _runtime(self, r: Request, repo: str):
        _, space, error = self._space_or_error(r, repo, write=False)
        if error:
            return error
        if not space.commits:
            stage = "NO_APP_FILE"
        elif space.polls_since_commit < self.build_polls:
            stage = BUILD_STAGES[min(space.polls_since_commit, len(BUILD_STAGES) - 1)]
        else:
            stage = self.outcome
        space.polls_since_commit += 1
        current = space.hardware if stage == "RUNNING" else None
        payload = {
            "stage": stage,
            "hardware": {"current": current, "requested": space.hardware},
            "storage": None,
            "gcTimeout": 172800,
            "replicas": {"current": 1, "requested": 1},
            "devMode": False,
            "sha": space.sha,
        }
        if stage.endswith("_ERROR"):
            payload["errorMessage"] = f"stub: the Space ended in {stage}"
        return 200, payload, {}

    def _hardware(self, r: Request, repo: str):
        _, space, error = self._space_or_error(r, repo, write=True)
        if error:
            return error
        flavor = r.json().get("flavor")
        if flavor in self.refused_hardware:
            return 402, {"error": f"Subscribe to PRO to use {flavor} hardware"}, {}
        space.hardware = flavor
        space.polls_since_commit = 0  # a hardware change restarts the Space
        return 200, {"stage": "BUILDING", "hardware": {"current": None, "requested": flavor}}, {}

    def _logs(self, r: Request, repo: str, kind: str):
        _, _, error = self._space_or_error(r, repo, write=False)
        if error:
            return error
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # the Hub's format
        lines = self.build_log if kind == "build" else ["stub run log"]
        events = "".join(
            f"data: {json.dumps({'data': line + chr(10), 'timestamp': now})}\n\n" for line in lines
        )
        return 200, events.encode(), {"Content-Type": "text/event-stream"}

    def _preupload(self, r: Request, repo: str, rev: str):
        _, space, error = self._space_or_error(r, repo, write=True)
        if error:
            return error
        files = []
        for item in r.json()["files"]:
            sample = base64.b64decode(item["sample"])
            lfs = (
                item["path"].endswith((".onnx", ".safetensors", ".png", ".jpg")) or b"\0" in sample
            )
            entry = {
                "path": item["path"],
                "uploadMode": "lfs" if lfs else "regular",
                "shouldIgnore": False,
            }
            if item["path"] in space.files:
                entry["oid"] = _oid(space.files[item["path"]], lfs)
            files.append(entry)
        return 200, {"files": files, "commitOid": space.sha}, {}

    def _tree(self, r: Request, repo: str, rev: str, sub: str = ""):
        _, space, error = self._space_or_error(r, repo, write=False)
        if error:
            return error
        entries = [
            {"type": "file", "path": path, "size": len(data), "oid": _oid(data, False)}
            for path, data in sorted(space.files.items())
            if path.startswith(sub.strip("/"))
        ]
        return 200, entries, {}

    def _info(self, r: Request, repo: str, rev: str = "main"):
        _, space, error = self._space_or_error(r, repo, write=False)
        if error:
            return error
        siblings = [{"rfilename": path} for path in sorted(space.files)]
        payload = {
            "id": repo,
            "sha": space.sha,
            "private": space.private,
            "sdk": space.sdk,
            "siblings": siblings,
            "author": repo.split("/")[0],
        }
        if self.host_in_info:
            static = ".static" if space.sdk == "static" else ""
            guess = f"https://{re.sub(r'[^a-z0-9]+', '-', repo.lower())}{static}.hf.space"
            payload["host"] = self.hosts.get(repo, guess)
            payload["subdomain"] = urlsplit(payload["host"]).hostname.split(".")[0]
        return 200, payload, {}

    def _lfs_batch(self, r: Request, repo: str):
        _, _, error = self._space_or_error(r, repo, write=True)
        if error:
            return error
        objects = []
        for obj in r.json()["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in self.lfs_store:
                entry["actions"] = {"upload": {"href": f"{self.url}/lfs-upload/{obj['oid']}"}}
            objects.append(entry)
        return (
            200,
            {"transfer": "basic", "objects": objects},
            {"Content-Type": "application/vnd.git-lfs+json"},
        )

    def _lfs_put(self, r: Request, oid: str):
        if hashlib.sha256(r.body).hexdigest() != oid:
            return 400, {"error": "stub: content does not match its sha256"}, {}
        self.lfs_store[oid] = r.body
        return 200, b"", {}

    def _commit(self, r: Request, repo: str, rev: str):
        _, space, error = self._space_or_error(r, repo, write=True)
        if error:
            return error
        summary, added, lfs, deleted = "", [], [], []
        new_files = dict(space.files)
        for line in r.body.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                summary = value.get("summary", "")
            elif key == "file":
                new_files[value["path"]] = base64.b64decode(value["content"])
                added.append(value["path"])
            elif key == "lfsFile":
                if value["oid"] not in self.lfs_store:
                    return (
                        422,
                        {"error": f"stub: LFS object of {value['path']} was never uploaded"},
                        {},
                    )
                new_files[value["path"]] = self.lfs_store[value["oid"]]
                lfs.append(value["path"])
            elif key == "deletedFile":
                if value["path"] not in new_files:
                    message = f"A file with this name doesn't exist: {value['path']}"
                    return 404, {"error": message}, {"X-Error-Code": "EntryNotFound"}
                new_files.pop(value["path"])
                deleted.append(value["path"])
        space.files = new_files
        commit = Commit(_sha(repo, new_files, len(space.commits)), summary, added, lfs, deleted)
        space.commits.append(commit)
        space.polls_since_commit = 0
        url = f"{self.url}/spaces/{repo}/commit/{commit.sha}"
        return 200, {"commitUrl": url, "commitOid": commit.sha, "success": True}, {}


def _oid(data: bytes, lfs: bool) -> str:
    # What huggingface_hub compares to skip unchanged files: sha256 for LFS, git's blob sha1 else.
    if lfs:
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _sha(repo_id: str, files: dict[str, bytes], n: int = 0) -> str:
    digest = hashlib.sha1(f"{repo_id}:{n}".encode())
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path])
    return digest.hexdigest()


def _read_chunked(stream) -> bytes:
    body = b""
    while True:
        size = int(stream.readline().strip() or b"0", 16)
        if size == 0:
            stream.readline()
            return body
        body += stream.read(size)
        stream.readline()
