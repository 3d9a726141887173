"""Deploy one bundle to a Hugging Face Space and wait until it runs.

Writes the Space folder (as `python -m demos space` does) to a temporary folder, creates
the Space if needed (Gradio SDK), uploads the folder in one commit (removing files the
Space no longer needs), waits until the Space is running or has failed (then prints the
tail of its build log), and records NAME -> OWNER/NAME in demos.json for the site build,
with the Space's page and the app's own address as the Hub gives it (`app_url`, the
OWNER-NAME.hf.space host the blog embeds).
Deploying again updates the Space; unchanged files are not re-uploaded.

The token comes from HF_TOKEN or from `hf auth login`; it needs write access. It is never
printed, logged or written anywhere. HF_ENDPOINT points the command at another Hub.

Example:

    HF_TOKEN=hf_... python -m demos deploy digits --space alice/digits
    python -m demos deploy digits --space alice/digits --dry-run
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from demos import files
from demos import space as space_folder
from demos.errors import DemosError

DEFAULT_MODELS = space_folder.DEFAULT_MODELS
# ZeroGPU is the only hardware a free account may use for a new Gradio Space (since 2026);
# an existing Space keeps its hardware unless --hardware is given.
NEW_SPACE_HARDWARE = "zero-a10g"
HARDWARE_CHOICES = (
    "cpu-basic",
    "cpu-upgrade",
    "zero-a10g",
    "t4-small",
    "t4-medium",
    "l4x1",
    "a10g-small",
    "a10g-large",
    "a100-large",
)
DEFAULT_TIMEOUT = 900.0  # seconds; a ZeroGPU build with a fresh pip install takes minutes
POLL_INTERVAL = 5.0  # seconds between runtime polls
# Without a commit sha in the runtime answer, a RUNNING seen this soon after the upload may
# be the previous build: wait this long (or for a BUILDING stage) before believing it.
SETTLE_SECONDS = 15.0
LOG_TAIL_LINES = 30
REGISTRY_FILE = "demos.json"
# OWNER/NAME as the Hub accepts them (huggingface_hub's validate_repo_id): letters, digits,
# '-', '_' and '.', at most 96 each, not ending in '-' or '.', and no '--' or '..'.
SPACE_ID = re.compile(
    r"^(?!.*(?:--|\.\.))[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?"
    r"/[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$"
)
INTERMEDIATE_STAGES = {"BUILDING", "RUNNING_BUILDING", "APP_STARTING", "RUNNING_APP_STARTING"}
BUILD_LOG_STAGES = {"BUILD_ERROR", "CONFIG_ERROR", "NO_APP_FILE"}


class DeployError(DemosError):
    """A deploy failed; the message says what to do (and never contains the token)."""


@dataclass(frozen=True)
class Deployment:
    name: str
    space: str  # OWNER/NAME
    url: str  # the Space's page on the Hub
    app_url: str  # the app itself
    stage: str  # RUNNING, or "dry-run"
    files: tuple[str, ...]
    commit: str | None  # the commit sha, None for a dry run


def deploy(
    name: str,
    space: str,
    *,
    models: str | Path = DEFAULT_MODELS,
    hardware: str | None = None,
    private: bool = False,
    dry_run: bool = False,
    static: bool = False,
    node_modules: str | Path | None = None,
    registry: str | Path | None = Path("."),
    timeout: float = DEFAULT_TIMEOUT,
    poll_interval: float = POLL_INTERVAL,
    settle_seconds: float = SETTLE_SECONDS,
    echo: Callable[[str], None] = print,
) -> Deployment:
    """Deploy bundle `models/NAME` to the Space `space` (OWNER/NAME) and wait for it.

    `static` deploys the in-browser page instead, as a static Space (`sdk: static`, free on
    every account, no hardware to choose). `registry` is the folder holding demos.json
    (None: don't record). Raises DeployError with a one-line explanation for every failure
    the user can fix.
    """
    if not SPACE_ID.match(space):
        raise DeployError(
            f"--space {space!r} is not OWNER/NAME (letters, digits, '-', '_', '.'; no '--' or "
            f"'..', no '-' or '.' at the end): for example --space your-user-name/{name}."
        )
    if static and hardware is not None:
        raise DeployError(
            "--hardware doesn't apply to --static: a static Space runs in the "
            "visitor's browser, on no hardware of its own."
        )
    if hardware is not None and hardware not in HARDWARE_CHOICES:
        raise DeployError(
            f"Unknown hardware {hardware!r}: choose one of {', '.join(HARDWARE_CHOICES)}."
        )
    token = None if dry_run else _token()
    try:
        with tempfile.TemporaryDirectory(prefix="demos-space-") as tmp:
            suggested = (
                hardware if hardware in space_folder.HARDWARE_CHOICES else NEW_SPACE_HARDWARE
            )
            try:
                if static:
                    folder = space_folder.build_static_space(
                        name, Path(tmp) / "space", models=models, node_modules=node_modules
                    )
                else:
                    folder = space_folder.build_space(
                        name, Path(tmp) / "space", models=models, hardware=suggested
                    )
            except space_folder.SpaceError as err:
                raise DeployError(str(err)) from None
            if dry_run:
                return _dry_run(name, space, folder, hardware, private, echo, static)
            result = _deploy(
                name,
                space,
                folder,
                token,
                hardware,
                private,
                timeout,
                poll_interval,
                settle_seconds,
                echo,
                static,
            )
    except DeployError as err:
        # Belt and braces: no message leaves this function with the token in it.
        raise DeployError(_scrub(str(err), token)) from None
    if registry is not None:
        path = record(Path(registry), result.name, result.space, result.url, result.app_url)
        echo(f"Recorded {result.name} -> {result.space} in {path}")
    return result


def _token() -> str:
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise DeployError(
            "No Hugging Face token: set HF_TOKEN to a token with write access "
            "(https://huggingface.co/settings/tokens) or run `hf auth login`."
        )
    return token


def space_host(space: str, *, static: bool = False) -> str:
    """The app's own address when the Hub can't be asked (a dry run, an answer without it).

    The Hub documents no rule (https://huggingface.co/docs/hub/spaces-embed: "of the form
    https://<space-subdomain>.hf.space", NimaBoscarino/hotdog-gradio at
    nimaboscarino-hotdog-gradio.hf.space; spaces-dev-mode: read it from `space_info(...)
    .subdomain`), so `deploy` records the Hub's own answer (`_app_url`) and this is only the
    fallback, a guess: OWNER/NAME lower-cased, each run of other characters one dash; static
    Spaces on *.static.hf.space. This is the only place in the repository that derives it:
    the blog reads `app_url` from demos.json.
    """
    label = re.sub(r"[^a-z0-9]+", "-", space.lower()).strip("-")
    return f"https://{label}{'.static' if static else ''}.hf.space"


def _space_urls(endpoint: str, space: str, static: bool = False) -> tuple[str, str]:
    """The Space's page on the Hub and the app's own address (derived, see space_host)."""
    return f"{endpoint}/spaces/{space}", space_host(space, static=static)


def _app_url(api, space: str, static: bool) -> str:
    """The app's address as the Hub gives it (`host` in the Space's info), else derived."""
    try:
        host = api.space_info(space).host
    except Exception:  # the Space is deployed; a failed lookup mustn't fail the deploy
        host = None
    if isinstance(host, str) and re.fullmatch(r"https://[a-z0-9.-]+", host.rstrip("/")):
        return host.rstrip("/")
    return space_host(space, static=static)


def _dry_run(name, space, folder, hardware, private, echo, static=False) -> Deployment:
    from huggingface_hub import constants

    url, app_url = _space_urls(constants.ENDPOINT, space, static)
    kind = (
        "a static Space, runs in the browser"
        if static
        else f"hardware: {hardware or f'{NEW_SPACE_HARDWARE} if new, unchanged otherwise'}"
    )
    echo(
        f"Dry run: would deploy {name!r} to {url} "
        f"({kind}, {'private' if private else 'public'}), uploading:"
    )
    for file in folder.files:
        echo(f"  {file}  ({(folder.path / file).stat().st_size:,} bytes)")
    echo("and removing any other file from the Space. Nothing was sent.")
    return Deployment(name, space, url, app_url, "dry-run", folder.files, None)


def _deploy(
    name,
    space,
    folder,
    token,
    hardware,
    private,
    timeout,
    poll_interval,
    settle_seconds,
    echo,
    static=False,
) -> Deployment:
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    url = f"{api.endpoint}/spaces/{space}"
    with _explained(api.endpoint, space, hardware):
        me = api.whoami()
        _check_owner(space, me)
        existed = api.repo_exists(space, repo_type="space")
        api.create_repo(
            space,
            repo_type="space",
            space_sdk="static" if static else "gradio",
            exist_ok=True,
            private=private or None,  # None: the namespace's default visibility
            space_hardware=None if static else hardware or NEW_SPACE_HARDWARE,
        )
        echo(f"{'Updating' if existed else 'Created'} the Space {url}")
        if existed and hardware is not None and not static:
            runtime = api.get_space_runtime(space)
            if (runtime.requested_hardware or runtime.hardware) != hardware:
                echo(f"Requesting {hardware} hardware")
                api.request_space_hardware(space, hardware)
        commit = api.upload_folder(
            repo_id=space,
            repo_type="space",
            folder_path=folder.path,
            # The folder is the whole Space: whatever else is there is from an older deploy.
            delete_patterns="*",
            commit_message=f"Deploy {name} with python -m demos deploy",
        )
        echo(f"Uploaded {len(folder.files)} files (commit {commit.oid[:8]}); waiting for the build")
        stage = _wait(api, space, commit.oid, timeout, poll_interval, settle_seconds, echo)
    if stage != "RUNNING":
        raise DeployError(_failure_message(api, space, stage, url))
    app_url = _app_url(api, space, static)
    echo(f"Running: {url} (app: {app_url})")
    return Deployment(name, space, url, app_url, stage, folder.files, commit.oid)


def _check_owner(space: str, me: dict) -> None:
    owner = space.split("/")[0]
    user = me.get("name")
    orgs = [org.get("name") for org in me.get("orgs") or []]
    if owner != user and owner not in orgs:
        where = f"your account ({user})" + (
            f" or your organisations ({', '.join(orgs)})" if orgs else ""
        )
        raise DeployError(
            f"{space}: the namespace {owner!r} belongs to someone else; you can deploy to "
            f"{where}: use --space {user}/{space.split('/')[1]}."
        )


def _wait(api, space, commit_oid, timeout, poll_interval, settle_seconds, echo) -> str:
    """Poll the runtime until the Space built from `commit_oid` is running or failed."""
    start = time.monotonic()
    last = None
    seen_build = False
    while True:
        runtime = api.get_space_runtime(space)
        stage = str(runtime.stage)
        elapsed = time.monotonic() - start
        if stage != last:
            echo(f"  {stage} ({elapsed:.0f}s)")
            last = stage
        sha = runtime.raw.get("sha")
        if stage in INTERMEDIATE_STAGES:
            seen_build = True
        elif sha == commit_oid or (sha is None and (seen_build or elapsed >= settle_seconds)):
            return stage
        if elapsed >= timeout:
            raise DeployError(
                f"{space} is still {stage} after {timeout:.0f}s; it may yet come up: watch "
                f"{api.endpoint}/spaces/{space} or rerun with a longer --timeout."
            )
        time.sleep(poll_interval)


def _failure_message(api, space: str, stage: str, url: str) -> str:
    build = stage in BUILD_LOG_STAGES
    try:
        runtime = api.get_space_runtime(space)
        reason = runtime.raw.get("errorMessage")
    except Exception:  # the failure itself is the news; a second error would hide it
        reason = None
    try:
        lines = [line.rstrip("\n") for line in api.fetch_space_logs(space, build=build)]
        tail = lines[-LOG_TAIL_LINES:]
        logs = "\n".join(f"  | {line}" for line in tail) if tail else "  (the log is empty)"
    except Exception as err:
        logs = f"  (could not fetch the {'build' if build else 'run'} log: {type(err).__name__})"
    kind = "build" if build else "run"
    return (
        f"{space} ended in {stage}{f' ({reason})' if reason else ''}; last lines of the {kind} "
        f"log:\n{logs}\nFix the cause and deploy again; the full log is at {url}?logs={kind}"
    )


class _explained:
    """Turn huggingface_hub and network errors into DeployError messages that say what to do."""

    def __init__(self, endpoint: str, space: str, hardware: str | None):
        self.endpoint, self.space, self.hardware = endpoint, space, hardware

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if err is None or isinstance(err, DeployError):
            return False
        message = self.explain(err)
        if message is None:
            return False
        raise DeployError(message) from None

    def explain(self, err: BaseException) -> str | None:
        import httpx2
        from huggingface_hub.errors import HfHubHTTPError

        if isinstance(err, HfHubHTTPError) and err.response is not None:
            status = err.response.status_code
            server = (err.server_message or "").strip().splitlines()
            said = f": the Hub said {server[0]!r}" if server else ""
            hardware = self.hardware or NEW_SPACE_HARDWARE
            if status == 401:
                return (
                    "Hugging Face rejected the token (401): it is invalid, expired or revoked. "
                    "Create a token with write access at https://huggingface.co/settings/tokens "
                    "and set HF_TOKEN or run `hf auth login`."
                )
            if status == 403:
                return (
                    f"No write access to {self.space} (403){said}. The Space belongs to someone "
                    "else or the token is read-only: use a write token, or a --space under your "
                    "own account."
                )
            if status == 402 or (status == 400 and "hardware" in " ".join(server).lower()):
                advice = (
                    "free accounts may hold only a few ZeroGPU Spaces: delete one or upgrade"
                    if hardware == "zero-a10g"
                    else "free accounts run Gradio Spaces on zero-a10g (--hardware zero-a10g); "
                    "cpu-basic needs PRO, paid hardware needs billing"
                )
                return (
                    f"Your Hugging Face plan doesn't allow {hardware} for {self.space} "
                    f"({status}){said}: {advice}."
                )
            if status == 404:
                return f"{self.space} was not found on {self.endpoint} (404){said}."
            if status == 429:
                return f"The Hub is rate-limiting this account (429){said}: wait and retry."
            return f"The Hub answered {status} for {self.space}{said}."
        if isinstance(err, (httpx2.TransportError, ConnectionError)):
            return (
                f"Can't reach the Hub at {self.endpoint} ({type(err).__name__}: "
                f"{_first_line(err)}): check the network connection or HF_ENDPOINT, then retry."
            )
        if isinstance(err, ValueError) and "README.md" in str(err):
            return f"The Hub refused the Space's README.md metadata: {' '.join(str(err).split())}"
        return None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else "no details"


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def record(registry: Path, name: str, space: str, url: str, app_url: str) -> Path:
    """Add or update NAME in REGISTRY/demos.json, keeping the other entries; atomic write.

    Each entry: `space` (OWNER/NAME), `url` (its page on the Hub) and `app_url` (the app's own
    host, what the blog embeds)."""
    path = registry / REGISTRY_FILE
    entries = {}
    if path.exists():
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise DeployError(
                f"{path} is not valid JSON ({err}); the Space is deployed, but fix or delete "
                "the file and deploy again to record it."
            ) from None
        if not isinstance(entries, dict):
            raise DeployError(f"{path} must hold a JSON object of demos; fix or delete it.")
    entries[name] = {"space": space, "url": url, "app_url": app_url}
    files.write_text(path, json.dumps(dict(sorted(entries.items())), indent=2) + "\n")
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the bundle to deploy (a folder name in --models)")
    parser.add_argument("--space", required=True, help="the Space id, OWNER/NAME")
    parser.add_argument(
        "--models",
        type=Path,
        default=DEFAULT_MODELS,
        help="folder holding the bundles",
    )
    parser.add_argument(
        "--hardware",
        choices=HARDWARE_CHOICES,
        default=None,
        metavar="HARDWARE",
        help=f"Space hardware, one of {', '.join(HARDWARE_CHOICES)}; when not given "
        f"(%(default)s): {NEW_SPACE_HARDWARE} for a new Space, unchanged for an existing one. "
        "cpu-basic needs a PRO account",
    )
    parser.add_argument(
        "--private",
        action="store_true",
        help="create the Space private (an existing Space keeps its visibility)",
    )
    parser.add_argument(
        "--static",
        action="store_true",
        help="deploy the in-browser demo page as a static Space (free on every account; "
        "needs `npm ci` for ONNX Runtime Web)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="write the Space folder and list what would be uploaded; needs no token, "
        "sends nothing",
    )
    parser.add_argument(
        "--registry",
        type=Path,
        default=Path("."),
        help=f"folder of the {REGISTRY_FILE} file the site build reads (the current folder "
        "is the repository root when run as documented)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for the Space to build and start",
    )


def run(args: argparse.Namespace) -> int:
    result = deploy(
        args.name,
        args.space,
        models=args.models,
        hardware=args.hardware,
        private=args.private,
        dry_run=args.dry_run,
        static=args.static,
        registry=args.registry,
        timeout=args.timeout,
        echo=lambda line: print(line, flush=True),
    )
    if result.stage == "dry-run":
        return 0
    print(result.url)
    sys.stdout.flush()
    return 0
