"""The site builds with warnings as errors, and each chapter page has its Colab and download links."""
import re

import pytest

from trtfaq.tools.colab import repository_url

from bookfiles import ROOT, toc_files, toc_notebooks


@pytest.fixture(scope="module")
def site(built_site):
    return built_site


def test_every_toc_entry_has_a_page(site):
    for entry in toc_files():
        assert (site / f"{entry}.html").exists(), f"no page for {entry}"
    assert (site / "index.html").exists() and (site / "search.html").exists()
    assert (site / "searchindex.js").exists()


@pytest.mark.parametrize("nb", toc_notebooks())
def test_chapter_has_colab_and_download_links(site, nb):
    html = (site / f"{nb}.html").read_text()
    repo = repository_url(ROOT / "_config.yml").removeprefix("https://github.com/")
    colab = f"https://colab.research.google.com/github/{repo}/blob/main/{nb}.ipynb"
    assert colab in html, f"{nb}: no Colab link {colab}"
    assert re.search(rf'href="[^"]*_sources/{re.escape(nb)}\.ipynb"', html), f"{nb}: no .ipynb download link"
    assert (site / "_sources" / f"{nb}.ipynb").exists()


def test_favicon_is_served_at_the_root_and_linked(site):
    # Browsers ask every site for /favicon.ico; without one every visit logs a 404.
    assert (site / "favicon.ico").stat().st_size > 0
    assert 'rel="icon"' in (site / "book" / "intro.html").read_text()
