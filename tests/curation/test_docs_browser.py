"""``csfkg docs`` in a real browser: headless Chromium (Debian's ``chromium``) opens the index,
algorithm, classes and evidence pages in a 1280 px wide window. Each page fits that width (no
horizontal scroll, no element past the right edge, the algorithm picture neither cut off nor
shrunk) and shows no raw diagram source (DOT or Mermaid text) to the reader.

How the page is measured: the test copies a page beside itself with a small script appended
that writes what the browser laid out (``scrollWidth``, ``clientWidth``, the right edge of every
element, the rendered text) as JSON into the page; ``chromium --dump-dom`` prints that page. The
screenshot is taken with ``chromium --screenshot`` and its width read from the PNG header. Each
Chromium process is started by the test in its own session with its own profile folder and
killed, with its children, if it has not finished within a minute.

Without ``chromium`` on the PATH the tests are skipped, except when the environment variable
``CI`` is set (as CI services set it): then they fail, since ``.ci/run`` installs ``chromium``
and a skip would hide a browser test that never ran.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import struct
import subprocess
from pathlib import Path

import pytest

from csfkg.curation.docs import build_docs

WIDTH = 1280
PAGES = ("index.html", "algorithm.html", "classes.html", "evidence.html")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RAW_DIAGRAM = ("digraph", "rankdir", "[label=", "<TABLE", "flowchart", "-->", "==>", "-.->")
"""Text that only DOT or Mermaid source holds: none of it may be shown on a page."""

PROBE = """
<script>
(function () {
  var root = document.documentElement;
  var out = {innerWidth: window.innerWidth, clientWidth: root.clientWidth, scrollWidth: root.scrollWidth,
             bodyScrollWidth: document.body.scrollWidth, pastEdge: [], clipped: [], svgs: [],
             text: document.body.innerText};
  var name = function (el) { return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                                    (el.className && el.className.baseVal === undefined ? "." + el.className : ""); };
  document.querySelectorAll("body *").forEach(function (el) {
    if (el.getBoundingClientRect().right > root.clientWidth + 0.5) { out.pastEdge.push(name(el)); }
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 && !(el instanceof SVGElement)) {
      out.clipped.push(name(el));
    }
  });
  document.querySelectorAll("svg").forEach(function (svg) {
    out.svgs.push({natural: svg.width.baseVal.value, shown: svg.getBoundingClientRect().width});
  });
  var pre = document.createElement("pre");
  pre.id = "csfkg-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def chromium_or_skip() -> str:
    if CHROMIUM:
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail("CI is set but chromium is not on the PATH: .ci/run installs Debian's chromium")
    pytest.skip("chromium is not on the PATH (Debian: apt-get install chromium; .ci/run installs it)")


def run_chromium(profile: Path, *arguments: str) -> str:
    """Run headless Chromium to the end and return its standard output. It runs in a session of
    its own, killed with every child process if it takes more than a minute."""
    command = [
        chromium_or_skip(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},900",
        *arguments,
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"chromium did not finish within 60 s: {' '.join(command)}")
    assert process.returncode == 0, err[-2000:]
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chromium_or_skip()
    out = tmp_path_factory.mktemp("browser") / "site"
    build_docs(out)
    return out


@pytest.fixture(scope="module")
def layout(site: Path, tmp_path_factory: pytest.TempPathFactory):
    """``layout(page)``: what Chromium lays out for ``page``, measured once per page."""
    seen: dict[str, dict] = {}

    def get(page: str) -> dict:
        if page not in seen:
            seen[page] = measure(site, page, tmp_path_factory.mktemp("profile"))
        return seen[page]

    return get


def measure(site: Path, page: str, profile: Path) -> dict:
    """What Chromium lays out for ``page`` in a 1280 px window (see :data:`PROBE`)."""
    text = (site / page).read_text(encoding="utf-8")
    assert text.count("</body>") == 1
    probe = site / f"probe-{page}"
    probe.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        dom = run_chromium(profile, "--dump-dom", probe.as_uri())
    finally:
        probe.unlink()
    found = re.search(r'<pre id="csfkg-probe">(.*?)</pre>', dom, flags=re.DOTALL)
    assert found, f"{page}: the probe did not run (no script output in the DOM)"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize("page", PAGES)
def test_page_fits_1280_px_without_horizontal_scroll(layout, page: str) -> None:
    seen = layout(page)
    assert seen["innerWidth"] == WIDTH
    assert seen["scrollWidth"] <= seen["clientWidth"] <= WIDTH, seen["pastEdge"][:10]
    assert seen["bodyScrollWidth"] <= seen["clientWidth"]
    assert seen["pastEdge"] == []  # no element, the algorithm table included, reaches past the edge
    assert seen["clipped"] == []  # nor scrolls inside itself (the picture's frame, a table)


@pytest.mark.parametrize("page", PAGES)
def test_page_shows_no_raw_diagram_source(layout, page: str) -> None:
    text = layout(page)["text"]
    assert len(text) > 200  # the page rendered
    assert [marker for marker in RAW_DIAGRAM if marker in text] == []


def test_algorithm_picture_is_drawn_at_its_own_size(site: Path, layout) -> None:
    """The picture fits because it is laid out narrow, not because the browser shrinks it."""
    seen = layout("algorithm.html")
    if not (site / "algorithm.svg").exists():
        assert seen["svgs"] == []  # the outline, without graphviz
        return
    [svg] = seen["svgs"]
    assert 300 < svg["natural"] <= seen["clientWidth"]
    assert svg["shown"] == pytest.approx(svg["natural"], abs=1)


@pytest.mark.parametrize("page", PAGES)
def test_screenshot_is_1280_px_wide(site: Path, page: str, tmp_path: Path) -> None:
    png = tmp_path / "page.png"
    run_chromium(tmp_path / "profile", f"--screenshot={png}", (site / page).as_uri())
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR"
    width, height = struct.unpack(">II", header[16:24])
    assert (width, height) == (WIDTH, 900)
