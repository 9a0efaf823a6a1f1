#!/usr/bin/env python3
"""`rmm mcp` driven by the official MCP Python SDK (PyPI `mcp`, pinned in requirements.txt),
over stdio and streamable HTTP, against a simulator (`rmm sim`) signed in with `rmm login`.

For each transport, and for each way the SDK connects (`auto`: its default, which probes
`server/discover` and falls back to `initialize`; `legacy`: the `initialize` handshake only):
the connection comes up and names a protocol version (printed); tools/list parses (the SDK's
pydantic models) and every tool's inputSchema and outputSchema is an object schema;
list_devices answers structuredContent that validates against its outputSchema (jsonschema,
the validator the SDK itself uses); a change tool called with bad arguments answers isError
naming every bad field, and changes nothing; a change without confirm is a preview, with
confirm it shows in the simulator; with elicitation (over 2026-07-28 the server asks through
an InputRequiredResult, before it through elicitation/create), accepted carries the change
out and declined changes nothing; --read-only lists no change tool and refuses one by name.
A warning the SDK logs fails the check (a closing DELETE answered 202 was one: rmm-mcp's
session_end.rs now answers 204).

RMM_BIN names the rmm binary (default ../../../target/debug/rmm; it is not built here).
Exits non-zero on the first failed check. No secret is printed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import asynccontextmanager, contextmanager
from importlib.metadata import version
from pathlib import Path

import httpx2
import jsonschema
from mcp import Client, StdioServerParameters, types
from mcp.client.streamable_http import streamable_http_client

HERE = Path(__file__).resolve().parent
RMM = str(Path(os.environ.get("RMM_BIN", HERE / "../../../target/debug/rmm")).resolve())
PROFILE = "clients-python"
CHANGE_TOOLS = ["schedule_firmware_update", "configure_ota_mode", "cancel_scheduled_update"]
SDK = f"MCP Python SDK (mcp) {version('mcp')}"

home = Path(tempfile.mkdtemp(prefix="mcp-clients-python-"))
# What the server needs, passed explicitly (no keyring here: the plain-file store).
ENV = {
    "RMM_CONFIG_DIR": str(home / "config"),
    "TOKEN_FILE": str(home / "secrets.json"),
    "XDG_RUNTIME_DIR": str(home / "run"),
    "RUST_LOG": "error",
}
FULL_ENV = {**os.environ, **ENV}
children: list[subprocess.Popen[str]] = []


class Warnings(logging.Handler):
    """What the SDK logs at WARNING or above (e.g. a result it could not validate)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


warnings = Warnings()
logging.getLogger("mcp").addHandler(warnings)


def rmm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RMM, "--profile", PROFILE, *args], env=FULL_ENV, capture_output=True, text=True, timeout=120
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator() -> dict:
    sim = subprocess.Popen(
        [RMM, "sim", "--profile", PROFILE, "--devices", "12"],
        env=FULL_ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    children.append(sim)
    line = sim.stdout.readline()
    assert line, f"rmm sim exited with {sim.poll()}"
    info = json.loads(line)
    login = rmm("login")
    assert login.returncode == 0, login.stderr
    return info


def start_http_endpoint(*extra: str) -> tuple[str, dict[str, str]]:
    """A running `rmm mcp --http 127.0.0.1:PORT ...extra` and the url and headers --print-config gives."""
    addr = f"127.0.0.1:{free_port()}"
    printed = rmm("mcp", "--print-config", "--http", addr)
    assert printed.returncode == 0, printed.stderr
    entry = json.loads(printed.stdout)["mcpServers"]["mcp-rmm"]
    assert entry["url"] == f"http://{addr}/mcp", entry["url"]
    assert re.fullmatch(r"Bearer \S+", entry["headers"]["Authorization"]), "a bearer header"
    server = subprocess.Popen(
        [RMM, "--profile", PROFILE, "mcp", "--http", addr, *extra],
        env=FULL_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    children.append(server)
    # It says so on stderr once it listens.
    for line in server.stderr:
        if "MCP endpoint on" in line:
            break
    else:
        raise AssertionError(f"rmm mcp --http exited with {server.wait()}")
    return entry["url"], entry["headers"]


def sim_device(info: dict, device_id: str) -> dict:
    url = f"{info['control_url']}/devices/{urllib.request.quote(device_id, safe='')}"
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        return json.load(r)


def object_schema(schema: dict, what: str) -> None:
    assert isinstance(schema, dict) and schema.get("type") == "object", f"{what}: {schema!r:.200}"
    # The schema itself must be a valid JSON Schema (the draft it names, else 2020-12).
    jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)


async def check(name: str, client: Client, info: dict) -> None:
    assert client.server_info is not None and client.server_info.name == "mcp-rmm", client.server_info
    print(f"{SDK} over {name}: protocol {client.protocol_version}, server {client.server_info.name} {client.server_info.version}")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", client.protocol_version or ""), client.protocol_version

    # tools/list: parsed by the SDK's pydantic models (a schema it cannot take raises here).
    listed = await client.list_tools()
    tools = {t.name: t for t in listed.tools}
    for tool in ["extract_auth_token", "list_devices", "make_api_request", "list_staged_firmware", *CHANGE_TOOLS]:
        assert tool in tools, f"{tool} in {sorted(tools)}"
    for tool in tools.values():
        object_schema(tool.input_schema, f"{tool.name} inputSchema")
        assert tool.output_schema is not None, f"{tool.name} has an outputSchema"
        object_schema(tool.output_schema, f"{tool.name} outputSchema")

    # A read: the SDK checks structuredContent against the outputSchema itself; so do we.
    page = await client.call_tool("list_devices", {"page_size": 5})
    assert not page.is_error, page
    content = page.structured_content
    jsonschema.validate(content, tools["list_devices"].output_schema)
    assert content["summary"]["total_devices"] == 12, content["summary"]
    assert len(content["devices"]) == 5, len(content["devices"])
    for key in ["device_id", "model_name", "serial_number", "ip_address", "current_firmware", "latest_firmware", "needs_update", "ota_mode"]:
        assert key in content["devices"][0], key
    # The text content is the same result, as JSON, for clients that read no structuredContent.
    # The text content is a summary for clients that read no structuredContent, and says so.
    assert page.content and "structuredContent" in page.content[0].text, page.content

    # Bad arguments: one isError result naming every problem; nothing changes.
    device = content["devices"][0]
    before = sim_device(info, device["device_id"])["otaMode"]
    bad = await client.call_tool(
        "configure_ota_mode",
        {"device_ids": [device["device_id"], 7], "ota_mode": "sometimes", "start_hour": "two", "confirm": True},
    )
    assert bad.is_error is True, bad
    body = json.loads(bad.content[0].text)
    fields = sorted(p["field"] for p in body["problems"])
    assert fields == ["device_ids[1]", "ota_mode", "start_hour"], bad.content[0].text
    assert sim_device(info, device["device_id"])["otaMode"] == before, "nothing changed"


@asynccontextmanager
async def connect(transport: str, mode: str, stdio: StdioServerParameters, url: str, headers: dict, **options):
    if transport == "stdio":
        async with Client(stdio, mode=mode, **options) as client:
            yield client
        return
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode, **options) as client:
            yield client


def no_new_warning(name: str) -> None:
    found, warnings.messages[:] = list(warnings.messages), []
    assert not found, f"SDK warnings over {name}: {found}"


async def some_device(client: Client, mode: str) -> dict:
    """An online device without a reservation whose OTA mode is not `mode`."""
    page = await client.call_tool("list_devices", {"all": True})
    for device in page.structured_content["devices"]:
        if "connection" not in device and "reserved_file_id" not in device and device["ota_mode"] != mode:
            return device
    raise AssertionError(f"no online device to change to {mode}")


async def check_preview_then_confirm(name: str, client: Client, info: dict) -> None:
    """Without elicitation: a change without confirm is a preview; with confirm it is done."""
    device = await some_device(client, "off")
    arguments = {"device_ids": [device["device_id"]], "ota_mode": "off"}
    preview = await client.call_tool("configure_ota_mode", arguments)
    assert not preview.is_error, preview
    assert preview.structured_content["status"] == "preview", preview.structured_content
    assert sim_device(info, device["device_id"])["otaMode"] != "off", "nothing changed yet"
    digest = preview.structured_content["preview"]["digest"]
    done = await client.call_tool("configure_ota_mode", {**arguments, "confirm": True, "preview_digest": digest})
    assert done.structured_content["status"] == "done", done
    assert sim_device(info, device["device_id"])["otaMode"] == "off"
    print(f"{SDK} over {name}: preview, then confirmed: done")


class Answers:
    """An elicitation callback that answers what it is told to and remembers the question."""

    def __init__(self) -> None:
        self.answer = types.ElicitResult(action="decline")
        self.asked: list[types.ElicitRequestParams] = []

    async def __call__(self, context, params):  # noqa: ANN001 (the SDK's ElicitationFnT)
        self.asked.append(params)
        return self.answer


async def check_elicitation(name: str, client: Client, answers: Answers, info: dict) -> None:
    """With elicitation: accepted carries the change out, declined changes nothing."""
    device = await some_device(client, "confirmation")
    answers.answer = types.ElicitResult(action="accept", content={"confirm": True})
    answers.asked.clear()
    done = await client.call_tool(
        "configure_ota_mode",
        {"device_ids": [device["device_id"]], "ota_mode": "confirmation", "start_hour": 1, "end_hour": 3},
    )
    assert done.structured_content["status"] == "done", done
    assert len(answers.asked) == 1, answers.asked
    schema = answers.asked[0].requested_schema
    assert schema["properties"]["confirm"].get("description"), schema
    assert sim_device(info, device["device_id"])["otaMode"] == "confirmation"

    other = await some_device(client, "off")
    before = sim_device(info, other["device_id"])["otaMode"]
    arguments = {"device_ids": [other["device_id"]], "ota_mode": "off"}
    if client.protocol_version >= "2026-07-28":
        # One round by hand: the question comes back as an InputRequiredResult, not a request.
        answers.asked.clear()
        first = await client.session.call_tool("configure_ota_mode", arguments, allow_input_required=True)
        assert isinstance(first, types.InputRequiredResult), first
        assert list(first.input_requests) == ["confirm"], first.input_requests
        assert first.request_state, "a request state to send back"
        assert answers.asked == [], "no elicitation/create request on 2026-07-28"
    answers.answer = types.ElicitResult(action="decline")
    answers.asked.clear()
    declined = await client.call_tool("configure_ota_mode", arguments)
    assert declined.structured_content["status"] == "declined", declined
    assert len(answers.asked) == 1, answers.asked
    assert sim_device(info, other["device_id"])["otaMode"] == before, "nothing changed"
    print(f"{SDK} over {name}: elicitation accepted: done; declined: nothing changed")


async def check_read_only(name: str, client: Client) -> None:
    """--read-only: no change tool listed, and one called by name is refused."""
    names = [t.name for t in (await client.list_tools()).tools]
    assert "list_devices" in names, names
    for tool in CHANGE_TOOLS:
        assert tool not in names, f"{tool} listed"
    refused = await client.call_tool("cancel_scheduled_update", {"device_ids": ["mn=U2hhcnA=:sn=MQ=="], "confirm": True})
    assert refused.is_error is True, refused
    assert "read-only" in refused.content[0].text, refused.content
    print(f"{SDK} over {name}, --read-only: no change tool listed, cancel_scheduled_update refused")


async def main() -> None:
    assert Path(RMM).exists(), f"{RMM} is missing: build it first (cargo build -p rmm-cli)"
    info = start_simulator()
    url, headers = start_http_endpoint()
    stdio = StdioServerParameters(command=RMM, args=["--profile", PROFILE, "mcp", "--stdio", "--standalone"], env=ENV)
    read_only_url, _ = start_http_endpoint("--read-only")
    read_only_stdio = stdio.model_copy(update={"args": [*stdio.args, "--read-only"]})
    for mode in ["auto", "legacy"]:
        for transport in ["stdio", "streamable HTTP"]:
            name = f"{transport} (mode {mode})"
            async with connect(transport, mode, stdio, url, headers) as client:
                await check(name, client, info)
                await check_preview_then_confirm(name, client, info)
            answers = Answers()
            async with connect(transport, mode, stdio, url, headers, elicitation_callback=answers) as client:
                await check_elicitation(name, client, answers, info)
            async with connect(transport, mode, read_only_stdio, read_only_url, headers) as client:
                await check_read_only(name, client)
            no_new_warning(name)
    print(f"{SDK}: every check passed")


@contextmanager
def cleanup():
    try:
        yield
    finally:
        for child in children:
            child.kill()
            child.wait()


if __name__ == "__main__":
    with cleanup():
        asyncio.run(main())
