"""docker-compose.yml, the Dockerfile and .dockerignore: their structure is checked everywhere; the compose file
is also run through `docker compose config` where Docker Compose runs."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from memos_graph.config import ENVIRONMENT_OVERRIDES

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
SETUP = REPO / "scripts" / "setup.sh"
SOURCE_PACKAGES = ("memos_graph", "graphql_schema")
# What `docker compose config` needs set; compose must refuse to run without them.
REQUIRED_ENV = {"NEO4J_PASSWORD": "compose-test-password", "MEMOS_ROOT_API_KEY": "mgk_compose_test_key"}
NPM_SPEC = re.compile(r"(?<![\w@])((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+)\b")


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def service(name: str) -> dict[str, Any]:
    services = load_compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    entry = services[name]
    assert isinstance(entry, dict)
    return entry


def environment(entry: dict[str, Any]) -> dict[str, str | None]:
    """A service's environment as a mapping, whichever of compose's two spellings it uses."""
    env = entry.get("environment", {})
    if isinstance(env, list):
        return {name: value for name, _, value in (item.partition("=") for item in env)}
    assert isinstance(env, dict)
    return {str(name): None if value is None else str(value) for name, value in env.items()}


def healthcheck_text(entry: dict[str, Any]) -> str:
    check = entry.get("healthcheck")
    assert isinstance(check, dict) and check.get("test"), "the service has no healthcheck"
    assert not check.get("disable", False)
    test = check["test"]
    return test if isinstance(test, str) else " ".join(str(part) for part in test)


@cache
def python_sources() -> str:
    parts: list[str] = []
    for package in SOURCE_PACKAGES:
        parts.extend(path.read_text(encoding="utf-8") for path in sorted((REPO / package).rglob("*.py")))
    return "\n".join(parts)


def read_by_code(variable: str) -> bool:
    """Whether the project reads this environment variable: a config override, or named in its source."""
    if variable in ENVIRONMENT_OVERRIDES:
        return True
    return f'"{variable}"' in python_sources() or f"'{variable}'" in python_sources()


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    pairs = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def build_args() -> dict[str, str]:
    """ARG defaults declared anywhere in the Dockerfile."""
    values = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            values[name.strip()] = value.strip()
    return values


def dockerfile_env() -> dict[str, str]:
    values = {}
    for keyword, rest in final_stage():
        if keyword == "ENV":
            for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", rest):
                values[name] = value
    return values


def dockerfile_cmd() -> list[str]:
    commands = [rest for keyword, rest in final_stage() if keyword == "CMD"]
    assert len(commands) == 1, "the final stage needs exactly one CMD"
    argv = json.loads(commands[0])  # exec form: no shell between the signal and the server
    assert isinstance(argv, list) and all(isinstance(part, str) for part in argv)
    return argv


def option(argv: list[str], flag: str) -> str:
    assert flag in argv, f"{flag} missing from {argv}"
    return argv[argv.index(flag) + 1]


# ---------------------------------------------------------------------------------------------- compose


def test_neo4j_service_is_community_5_26_with_a_healthcheck_and_a_data_volume() -> None:
    neo4j = service("neo4j")
    image, _, tag = neo4j["image"].rpartition(":")
    assert (image, tag) == ("neo4j", "5.26-community")
    check = healthcheck_text(neo4j)
    assert "7474" in check or "cypher-shell" in check
    mounts = [str(volume).split(":") for volume in neo4j.get("volumes", [])]
    data_mounts = [parts[0] for parts in mounts if len(parts) >= 2 and parts[1] == "/data"]
    assert len(data_mounts) == 1, f"no single volume at /data in {neo4j.get('volumes')}"
    assert data_mounts[0] in (load_compose().get("volumes") or {}), "the /data volume is not declared"
    auth = environment(neo4j)["NEO4J_AUTH"]
    assert auth is not None and auth.startswith("neo4j/${NEO4J_PASSWORD:?"), "Neo4j's password must be required"


def test_every_published_port_is_bound_to_loopback() -> None:
    for name, entry in load_compose()["services"].items():
        for port in entry.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{name} publishes {port!r} publicly"


def test_memos_graph_builds_from_the_repo_dockerfile_and_waits_for_a_healthy_neo4j() -> None:
    app = service("memos-graph")
    build = app["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (REPO / context / dockerfile).resolve() == DOCKERFILE
    assert app["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert "/healthz" in healthcheck_text(app)
    port = option(dockerfile_cmd(), "--port")
    assert f"127.0.0.1:{port}:{port}" in app["ports"]
    assert f":{port}/healthz" in healthcheck_text(app)


def test_memos_graph_environment_names_only_variables_the_code_reads() -> None:
    env = environment(service("memos-graph"))
    assert env["NEO4J_URI"] == "${NEO4J_URI:-bolt://neo4j:7687}"
    for required in REQUIRED_ENV:
        value = env[required]
        assert value is not None and value.startswith("${" + required + ":?"), f"{required} must be required"
    project_variables = [name for name in env if name.startswith(("MEMOS_", "NEO4J_"))]
    assert len(project_variables) >= 5
    unread = [name for name in project_variables if not read_by_code(name)]
    assert not unread, f"docker-compose.yml sets variables nothing reads: {unread}"
    for name in project_variables:
        value = env[name] or ""
        referenced = re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", value)
        assert referenced in ([], [name]), f"{name} takes its value from {referenced}, not from {name}"
    # The check above can fail: a name the project never reads is not accepted.
    assert not read_by_code("MEMOS_NOT_A_SETTING")


# ---------------------------------------------------------------------------------------------- Dockerfile


def test_dockerfile_runs_an_existing_module_with_flags_it_accepts() -> None:
    argv = dockerfile_cmd()
    assert argv[:2] == ["python", "-m"]
    module = argv[2]
    assert importlib.util.find_spec(module) is not None, f"no module {module}"
    assert importlib.util.find_spec(f"{module}.__main__") is not None, f"{module} cannot run with -m"
    assert option(argv, "--host") == "0.0.0.0"
    usage = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120, cwd=REPO, check=True
    ).stdout
    for flag in (part for part in argv[3:] if part.startswith("--")):
        assert flag in usage, f"python -m {module} does not accept {flag}"
    exposed = [rest for keyword, rest in final_stage() if keyword == "EXPOSE"]
    assert exposed == [option(argv, "--port")]


def test_dockerfile_base_user_and_environment() -> None:
    base = final_stage()[0][1].split()[0]
    base = re.sub(r"\$\{(\w+)\}", lambda m: build_args()[m.group(1)], base)
    assert base == "python:3.11-slim"
    users = [rest for keyword, rest in final_stage() if keyword == "USER"]
    assert users and users[-1] not in ("root", "0"), "the service must not run as root"
    env = dockerfile_env()
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    project_variables = [name for name in env if name.startswith(("MEMOS_", "NEO4J_"))]
    assert [name for name in project_variables if not read_by_code(name)] == []


def test_dockerfile_installs_the_lock_the_project_and_its_cypher_files() -> None:
    runs = " ".join(rest for keyword, rest in final_stage() if keyword == "RUN")
    copies = [rest.split() for keyword, rest in final_stage() if keyword == "COPY" and "--from" not in rest]
    copied = {source for parts in copies for source in parts[:-1]}
    assert {"requirements.lock", "pyproject.toml", "cypher", *SOURCE_PACKAGES} <= copied
    assert "requirements.lock" in runs
    assert "pip install --no-deps -e ." in runs  # see the Dockerfile: a wheel would lack cypher/
    assert build_args().get("TORCH_VARIANT") in ("cpu", "cuda")


def test_dockerfile_graphiql_assets_match_setup_sh() -> None:
    in_image = dict(NPM_SPEC.findall(DOCKERFILE.read_text(encoding="utf-8")))
    in_setup = dict(NPM_SPEC.findall(SETUP.read_text(encoding="utf-8")))
    assert "graphiql" in in_setup
    assert in_image == in_setup
    assert dockerfile_env()["MEMOS_GRAPHIQL_ASSETS"] == "/opt/graphiql-assets"
    assert "cytoscape" in in_setup and dockerfile_env()["MEMOS_EXPLORER_ASSETS"] == "/opt/explorer-assets"


def test_dockerignore_keeps_junk_and_secrets_out_but_not_the_sources() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", "bench/cache", "**/__pycache__", ".venv", ".env"} <= patterns
    copies = [rest.split() for keyword, rest in final_stage() if keyword == "COPY" and "--from" not in rest]
    for source in (source for parts in copies for source in parts[:-1]):
        assert source not in patterns, f".dockerignore drops {source}, which the Dockerfile copies"


# ---------------------------------------------------------------------------------------------- docker compose


@cache
def compose_unavailable() -> str | None:
    """Why `docker compose` cannot run here, or None when it can."""
    docker = shutil.which("docker")
    if docker is None:
        return "no Docker engine or CLI on this machine (docker not on PATH)"
    try:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"no working Docker here: {exc}"
    if probe.returncode != 0:
        detail = (probe.stderr or probe.stdout).strip().splitlines()
        return f"no Docker engine with Compose here: `docker compose version` fails ({detail[0] if detail else ''})"
    return None


def compose_config(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    reason = compose_unavailable()
    if reason is not None:
        pytest.skip(reason)
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("NEO4J_", "MEMOS_"))}
    return subprocess.run(
        ["docker", "compose", "--project-directory", str(REPO), "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**clean, **extra_env},
    )


def test_docker_compose_config_accepts_the_file() -> None:
    result = compose_config(REQUIRED_ENV)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    app_env = environment(resolved["services"]["memos-graph"])
    assert app_env["NEO4J_URI"] == "bolt://neo4j:7687"
    assert app_env["NEO4J_PASSWORD"] == REQUIRED_ENV["NEO4J_PASSWORD"]
    assert app_env["MEMOS_ROOT_API_KEY"] == REQUIRED_ENV["MEMOS_ROOT_API_KEY"]


def test_docker_compose_config_refuses_a_missing_password() -> None:
    result = compose_config({"MEMOS_ROOT_API_KEY": REQUIRED_ENV["MEMOS_ROOT_API_KEY"]})
    assert result.returncode != 0
    assert "NEO4J_PASSWORD" in result.stderr
