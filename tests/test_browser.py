"""The built site in a real browser: headless Chromium (Debian's package) driven by Playwright.

Every page of the toc loads; every internal link and anchor resolves; every image loads; the
search page finds a chapter; no console error except those on the allowlist below. Screenshots of
the home page and of each chapter go to test-artifacts/screenshots/.
"""
import functools
import http.server
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from bookfiles import ROOT, toc_files, toc_notebooks

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"

# Console messages that are not the book's fault. Each entry: (regex, why it is allowed).
ALLOWED_CONSOLE = [
    # sphinx-thebe's loader script is included twice by Jupyter Book 1.x pages; harmless (no Thebe use).
    (r"Identifier 'THEBE_JS_URL' has already been declared", "sphinx-thebe script included twice"),
    # MathJax and other CDN files cannot load where the network is closed (CI); on the published
    # site they load. Requests to the local server are never allowed to fail (checked separately).
    (r"Failed to load resource: net::ERR_(NAME_NOT_RESOLVED|INTERNET_DISCONNECTED|CONNECTION_REFUSED|"
     r"ADDRESS_UNREACHABLE|NETWORK_ACCESS_DENIED)", "external resource unreachable offline"),
]


def allowed(message: str) -> bool:
    return any(re.search(pattern, message) for pattern, _ in ALLOWED_CONSOLE)


def _skip_or_fail(reason):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser test: .ci/run installs Chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        _skip_or_fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright is not installed: pip install -r requirements.txt")
    profile = ROOT / "test-artifacts" / "chromium-profile"
    shutil.rmtree(profile, ignore_errors=True)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-gpu"])
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def server(built_site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


@functools.cache
def _parse(path: Path) -> _Anchors:
    p = _Anchors()
    p.feed(path.read_text(encoding="utf-8", errors="replace"))
    return p


def broken_internal_links(site: Path, page: str) -> list[str]:
    """Links of ``page`` (a path under ``site``) to files or anchors of the site that do not exist."""
    broken = []
    base = "http://site/" + page
    for href in _parse(site / page).links:
        url = urlparse(urljoin(base, href))
        if url.netloc != "site" or url.scheme not in ("http", "https"):
            continue  # external link, mailto:, javascript:
        target = site / unquote(url.path.lstrip("/"))
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            broken.append(f"{page}: {href} (no file {target.relative_to(site)})")
        elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in _parse(target).ids:
            broken.append(f"{page}: {href} (no anchor #{url.fragment})")
    return broken


PAGES = ["index.html"] + [f"{f}.html" for f in toc_files()]


def visit(browser, url):
    """Open ``url``; return (console problems, failed local requests, broken images, page)."""
    page = browser.new_page()
    problems, failed = [], []
    page.on("console", lambda m: m.type == "error" and not allowed(m.text) and problems.append(m.text))
    page.on("pageerror", lambda e: not allowed(str(e)) and problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: urlparse(r.url).hostname == "127.0.0.1" and failed.append(r.url))
    page.on("response", lambda r: urlparse(r.url).hostname == "127.0.0.1" and r.status >= 400
            and failed.append(f"{r.url} (HTTP {r.status})"))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
    if url.endswith("/index.html"):  # the root page redirects to the introduction
        page.wait_for_url(re.compile(r".*/book/intro\.html$"))
        page.wait_for_load_state("load")
    images = page.evaluate("Array.from(document.images).filter(i => i.src.startsWith(location.origin)"
                           " && (!i.complete || i.naturalWidth === 0)).map(i => i.src)")
    return problems, failed, images, page


@pytest.mark.parametrize("page_path", PAGES)
def test_page_loads_cleanly(browser, server, built_site, page_path):
    problems, failed, images, page = visit(browser, server + page_path)
    try:
        assert not problems, f"console errors on {page_path}: {problems}; local HTTP failures: {failed}"
        assert not failed, f"failed local requests on {page_path}: {failed}"
        assert not images, f"images that did not load on {page_path}: {images}"
        assert not broken_internal_links(built_site, page_path)
        name = Path(page_path).stem
        if page_path == "index.html" or page_path[:-5] in toc_notebooks():
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
    finally:
        page.close()


def test_search_finds_a_chapter(browser, server):
    page = browser.new_page()
    try:
        page.goto(server + "search.html?q=normalization", wait_until="load")
        page.wait_for_selector("#search-results ul.search li", timeout=15000)
        hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
        assert any("07-batch-norm" in h for h in hits), hits
    finally:
        page.close()


def test_a_planted_broken_link_is_caught(built_site, tmp_path):
    site = tmp_path / "html"
    shutil.copytree(built_site, site)
    page = site / "book" / "roadmap.html"
    text = page.read_text()
    page.write_text(text.replace("</article>", '<a href="../notebooks/99-missing.html">x</a>'
                                 '<a href="../notebooks/07-batch-norm.html#no-such-section">y</a></article>', 1))
    _parse.cache_clear()
    broken = broken_internal_links(site, "book/roadmap.html")
    assert broken == ["book/roadmap.html: ../notebooks/99-missing.html (no file notebooks/99-missing.html)",
                      "book/roadmap.html: ../notebooks/07-batch-norm.html#no-such-section (no anchor #no-such-section)"]


def test_console_allowlist_is_narrow():
    assert allowed("Uncaught SyntaxError: Identifier 'THEBE_JS_URL' has already been declared")
    assert not allowed("Uncaught ReferenceError: foo is not defined")
    assert not allowed("Failed to load resource: the server responded with a status of 404 (File not found)")
