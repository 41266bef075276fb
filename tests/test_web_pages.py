"""Saved web pages (.html, .htm): main text only, in paragraphs, with the page's own title, date and site."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROGRAM
from gripcode.corpus.limits import ReadLimits
from gripcode.corpus.readers import SUPPORTED_SUFFIXES, read_file
from gripcode.corpus.readers.web_page import declared_encoding
from gripcode.errors import DocumentImportError

# A university news page about the study, with everything around an article that a saved page carries.
ARTICLE = """\
<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>Why some mining countries build magnet industries | Campus News</title>
<meta property="og:title" content="Why some mining countries build magnet industries">
<meta property="og:site_name" content="Campus News">
<meta name="author" content="Helena Marques">
<meta property="article:published_time" content="2023-03-14T09:00:00+00:00">
<link rel="canonical" href="https://news.example.edu/2023/03/rare-earth-strategies">
<script>window.dataLayer = [{"page": "article"}];</script>
<style>body { font-family: serif; }</style>
</head>
<body>
<div id="cookie-banner" class="cookie-consent">We use cookies to measure visits. Accept all cookies or choose
  which ones you allow.</div>
<header class="site-header">
  <a class="logo" href="/">Campus News</a>
  <nav class="main-nav"><ul>
    <li><a href="/research">Research</a></li><li><a href="/teaching">Teaching</a></li>
    <li><a href="/events">Events and open days</a></li><li><a href="/contact">Contact the press office</a></li>
  </ul></nav>
</header>
<div class="ad-banner advertisement">Advertisement: Study abroad fairs this spring, register today</div>
<main>
<article>
<h1>Why some mining countries build magnet industries</h1>
<p class="byline">By Helena Marques, 14 March 2023</p>
<p>A comparative project at the university is asking why some countries that mine rare earths turn them
  into magnets, catalysts and motors, while others ship concentrate abroad and keep little of the value.</p>
<p>The team follows three producers, China, Brazil and Kazakhstan, and the European and Japanese firms that
  buy from them. Its members interview engineers, officials and traders, and read policy documents
  in five languages.</p>
<h2>Three paths from the mine</h2>
<p>China linked mining, separation and research to regional industry, and in 2022 merged its heavy
  rare-earth producers into one state-controlled group.<br>Brazil treats its untapped deposits as a
  base for domestic industry.</p>
<ul>
  <li>China: consolidation under state-owned groups</li>
  <li>Brazil: resource nationalism and development banks</li>
  <li>Kazakhstan: a joint venture with Japanese capital</li>
</ul>
<p>“Ores are not scarce, but clean processing is,” one of the researchers said, pointing to the thorium and
  uranium that are mined along with the metals.</p>
</article>
<aside class="related-links">
  <h3>Related stories</h3>
  <ul><li><a href="/a">New library wing opens</a></li><li><a href="/b">Rowing team wins regatta</a></li></ul>
</aside>
</main>
<div class="ad-slot sponsored">Sponsored: Executive master in supply-chain management</div>
<footer class="site-footer">
  <p>© 2023 University Press Office. All rights reserved.</p>
  <p><a href="/privacy">Privacy policy</a> · <a href="/imprint">Imprint</a></p>
</footer>
</body>
</html>
"""

ARTICLE_PARAGRAPHS = [
    "Why some mining countries build magnet industries",
    "A comparative project at the university is asking why some countries that mine rare earths turn them "
    "into magnets, catalysts and motors, while others ship concentrate abroad and keep little of the value.",
    "The team follows three producers, China, Brazil and Kazakhstan, and the European and Japanese firms that "
    "buy from them. Its members interview engineers, officials and traders, and read policy documents in five "
    "languages.",
    "Three paths from the mine",
    "China linked mining, separation and research to regional industry, and in 2022 merged its heavy "
    "rare-earth producers into one state-controlled group.\nBrazil treats its untapped deposits as a base for "
    "domestic industry.",
    "China: consolidation under state-owned groups",
    "Brazil: resource nationalism and development banks",
    "Kazakhstan: a joint venture with Japanese capital",
    "“Ores are not scarce, but clean processing is,” one of the researchers said, pointing to the thorium and "
    "uranium that are mined along with the metals.",
]

# Strings of the page furniture around the article: none may reach the document.
FURNITURE = ["cookies", "Research", "Events and open days", "press office", "Advertisement", "Study abroad",
             "Related stories", "library wing", "Rowing", "Sponsored", "Executive master", "All rights reserved",
             "Privacy policy", "Imprint", "dataLayer", "font-family", "By Helena Marques"]

PORTUGUESE = """\
<html lang="pt-BR"><head><meta charset="utf-8">
<title>Goiás aposta em ímãs de terras raras - Folha do Cerrado</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Goiás aposta em ímãs de terras raras", "datePublished": "2014-06-12",
 "author": {"@type": "Person", "name": "Mariana Lopes"},
 "publisher": {"@type": "Organization", "name": "Folha do Cerrado"}}</script>
</head><body>
<nav><a href="/">Início</a> <a href="/economia">Economia</a> <a href="/assine">Assine já</a></nav>
<div class="publicidade ad-banner">Publicidade: consórcios de caminhões com desconto</div>
<article>
<h1>Goiás aposta em ímãs de terras raras</h1>
<p>A mineradora confirmou que a planta piloto de separação começou a operar no norte de Goiás, com argila
   iônica retirada a poucos metros da superfície.</p>
<p>O governo estadual quer que os óxidos fiquem no país e sirvam a fábricas de ímãs, e não sejam vendidos
   como concentrado para a China.</p>
<p>Ambientalistas pedem estudos sobre os rejeitos e o uso de água no cerrado.</p>
</article>
<footer>Folha do Cerrado © 2014 – todos os direitos reservados</footer>
</body></html>
"""

PORTUGUESE_PARAGRAPHS = [
    "Goiás aposta em ímãs de terras raras",
    "A mineradora confirmou que a planta piloto de separação começou a operar no norte de Goiás, com argila "
    "iônica retirada a poucos metros da superfície.",
    "O governo estadual quer que os óxidos fiquem no país e sirvam a fábricas de ímãs, e não sejam vendidos "
    "como concentrado para a China.",
    "Ambientalistas pedem estudos sobre os rejeitos e o uso de água no cerrado.",
]

RUSSIAN = """\
<html lang="ru"><head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">
<title>Казахстан наращивает выпуск редкоземельных металлов</title>
<meta name="date" content="2016-03-15">
</head><body>
<div class="menu"><a href="/">Главная</a> | <a href="/news">Новости</a> | <a href="/about">О нас</a></div>
<div class="article">
<h1>Казахстан наращивает выпуск редкоземельных металлов</h1>
<p>Совместное предприятие с японскими партнёрами начало переработку урановых хвостов в концентрат
редкоземельных металлов.</p>
<p>В министерстве считают, что экспортная квота Китая делает казахстанское сырьё привлекательным для
покупателей из Японии.</p>
</div>
<div class="footer">Все права защищены, 2016</div>
</body></html>
"""

# The heading that repeats the title is left to the title here (trafilatura's choice for this layout).
RUSSIAN_PARAGRAPHS = [
    "Совместное предприятие с японскими партнёрами начало переработку урановых хвостов в концентрат "
    "редкоземельных металлов.",
    "В министерстве считают, что экспортная квота Китая делает казахстанское сырьё привлекательным для "
    "покупателей из Японии.",
]

# Nothing but furniture: a cookie banner, a menu and a footer around an empty main element.
NO_MAIN_TEXT = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Steppe Industry Review</title></head>
<body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience. Accept all cookies
  or manage preferences.</div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/mining">Mining</a></li>
  <li><a href="/energy">Energy</a></li></ul></nav></header>
<main></main>
<footer class="site-footer"><p>© 2015 Steppe Industry Review. All rights reserved.</p>
  <p><a href="/privacy">Privacy policy</a> · <a href="/contact">Contact us</a></p></footer>
</body></html>
"""

POLICY_TABLE = """\
<html><head><title>Credit line for rare-earth separation</title></head><body>
<div class="menu"><a href="/">Home</a> | <a href="/about">About the bank</a></div>
<div class="content">
<p>The development bank has opened a credit line for companies that separate rare earths from monazite sands
and sell oxides to domestic magnet makers.</p>
<p>The line covers up to seventy per cent of the cost of pilot plants, and the first loans are expected to be
signed before the end of the year.</p>
<table>
<tr><th>Year</th><th>Credit (R$ million)</th><th></th></tr>
<tr><td>2021</td><td>120</td><td></td></tr>
<tr><td>2022</td><td>240</td><td></td></tr>
</table>
</div>
<div class="footer">Copyright 2021 Example Bank</div>
</body></html>
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


# --- the main text and what the page says of itself ---------------------------------------------


def test_article_keeps_main_text_in_paragraphs_and_drops_furniture(tmp_path: Path) -> None:
    [page] = read_file(write(tmp_path / "rare-earth-strategies.html", ARTICLE))
    assert paragraphs(page.text) == ARTICLE_PARAGRAPHS
    for furniture in FURNITURE:
        assert furniture not in page.text
    assert page.title == "Why some mining countries build magnet industries"
    assert page.date == "2023-03-14"
    assert page.source == "Campus News"
    assert page.language == "en"
    assert page.metadata == {
        "author": "Helena Marques",
        "url": "https://news.example.edu/2023/03/rare-earth-strategies",
        "sitename": "Campus News",
        "headings": [[0, 49], [478, 503]],
    }
    assert [page.text[start:end] for start, end in page.metadata["headings"]] == [
        "Why some mining countries build magnet industries", "Three paths from the mine"]
    assert page.replaced is None and page.turns == []


def test_portuguese_page_with_json_ld(tmp_path: Path) -> None:
    [page] = read_file(write(tmp_path / "goias.htm", PORTUGUESE))
    assert paragraphs(page.text) == PORTUGUESE_PARAGRAPHS
    for furniture in ("Início", "Assine", "Publicidade", "caminhões", "direitos reservados"):
        assert furniture not in page.text
    assert page.title == "Goiás aposta em ímãs de terras raras"
    assert page.date == "2014-06-12"
    assert page.language == "pt"
    assert page.source == "Folha do Cerrado"
    assert page.metadata == {"author": "Mariana Lopes", "sitename": "Folha do Cerrado", "headings": [[0, 36]]}


def test_cp1251_page_is_decoded_by_its_meta_charset(tmp_path: Path) -> None:
    data = RUSSIAN.encode("cp1251")
    assert declared_encoding(data) == "cp1251"
    [page] = read_file(write(tmp_path / "kazakhstan.html", RUSSIAN, "cp1251"))
    assert paragraphs(page.text) == RUSSIAN_PARAGRAPHS
    assert "Главная" not in page.text and "Все права" not in page.text
    assert page.title == "Казахстан наращивает выпуск редкоземельных металлов"
    assert page.date == "2016-03-15"
    assert page.language == "ru"
    assert page.replaced is None


def test_declared_encoding_settles_what_detection_would_guess_wrong(tmp_path: Path) -> None:
    """Polish in ISO-8859-2: detection alone reads "Śląsku" as "¦l±sku" (windows-1250); the page says which."""
    text = ('<html lang="pl"><head><meta charset="iso-8859-2"><title>Odzysk metali</title></head><body><article>'
            "<p>Odzysk metali ziem rzadkich ze zużytych silników ruszył na Śląsku.</p></article></body></html>")
    [page] = read_file(write(tmp_path / "odzysk.html", text, "iso8859_2"))
    assert page.text == "Odzysk metali ziem rzadkich ze zużytych silników ruszył na Śląsku."


def test_wrong_declaration_is_overruled_by_the_bytes(tmp_path: Path) -> None:
    """A page that says UTF-8 but is not: the declaration fails on its bytes, and detection decides."""
    text = RUSSIAN.replace("windows-1251", "utf-8")
    [page] = read_file(write(tmp_path / "kazakhstan.html", text, "cp1251"))
    assert paragraphs(page.text) == RUSSIAN_PARAGRAPHS


def test_xhtml_declaration_names_the_encoding(tmp_path: Path) -> None:
    text = ('<?xml version="1.0" encoding="windows-1251"?>\n'
            '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="ru"><head><title>Квота</title></head>'
            '<body><p>Экспортная квота Китая снижена на треть.</p></body></html>')
    [page] = read_file(write(tmp_path / "quota.xhtml.html", text, "cp1251"))
    assert page.text == "Экспортная квота Китая снижена на треть."
    assert page.language == "ru"


def test_utf8_page_with_a_stale_legacy_declaration_is_utf8(tmp_path: Path) -> None:
    """A page saved again as UTF-8 often keeps its old declaration; valid UTF-8 wins, as in every reader."""
    text = PORTUGUESE.replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">')
    [page] = read_file(write(tmp_path / "goias.html", text))
    assert paragraphs(page.text) == PORTUGUESE_PARAGRAPHS


def test_forced_encoding_wins_over_the_declaration(tmp_path: Path) -> None:
    text = RUSSIAN.replace("windows-1251", "utf-8")
    [page] = read_file(write(tmp_path / "kazakhstan.html", text, "cp1251"), encoding="cp1251")
    assert paragraphs(page.text) == RUSSIAN_PARAGRAPHS


def test_declared_encodings_as_browsers_read_them() -> None:
    assert declared_encoding(b'<meta charset="ISO-8859-1">') == "cp1252"
    assert declared_encoding(b"<META HTTP-EQUIV='content-type' CONTENT='text/html;charset=gb2312'>") == "gb18030"
    assert declared_encoding(b'<meta charset="utf-16">') is None
    assert declared_encoding(b'<meta charset="no-such-charset">') is None
    assert declared_encoding(b"<html><head><title>x</title></head></html>") is None


def test_table_rows_are_paragraphs(tmp_path: Path) -> None:
    [page] = read_file(write(tmp_path / "credit.html", POLICY_TABLE))
    assert paragraphs(page.text) == [
        "The development bank has opened a credit line for companies that separate rare earths from monazite "
        "sands and sell oxides to domestic magnet makers.",
        "The line covers up to seventy per cent of the cost of pilot plants, and the first loans are expected to "
        "be signed before the end of the year.",
        "Year | Credit (R$ million)",
        "2021 | 120",
        "2022 | 240",
    ]
    # No date in the page: the copyright year of the footer is not taken for one.
    assert page.date is None
    assert page.title == "Credit line for rare-earth separation"
    assert page.source is None and page.metadata == {}


def test_title_falls_back_to_the_file_name(tmp_path: Path) -> None:
    text = ("<html><body><article><p>Quota cuts announced in Beijing on Monday hit magnet makers in Japan and "
            "Germany, who had stocked up for only three months.</p></article></body></html>")
    [page] = read_file(write(tmp_path / "quota-cuts.html", text))
    assert page.title == "quota-cuts"
    assert page.language is None


def test_sample_corpus_page(corpus_dir: Path) -> None:
    [page] = read_file(corpus_dir / "media" / "brazil-2022-magnet-pilot-line.html")
    assert page.title == "Development bank backs a pilot line for rare-earth magnets in Minas Gerais"
    assert (page.date, page.source, page.language) == ("2022-09-13", "Minas Industry Today", "en")
    assert paragraphs(page.text)[3:5] == [
        "Dependence on China",
        "Almost all the magnets used by Brazilian factories today are imported from China, and the supply scare "
        "of 2010, when Chinese export quotas were cut, is still cited in Brasília as the reason to act. A "
        "researcher at the centre said that separation is the hardest step, because the ore contains thorium and "
        "the waste has to be stored for decades.",
    ]
    assert len(paragraphs(page.text)) == 10
    for furniture in ("cookies", "Subscribe", "Advertisement", "Read more", "Coffee harvest", "Sponsored",
                      "invented outlet", "Privacy", "4 min read", "analyticsQueue"):
        assert furniture not in page.text


# --- pages gripcode refuses -----------------------------------------------------------------------


def test_page_without_main_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError) as error:
        read_file(write(tmp_path / "front.html", NO_MAIN_TEXT))
    assert str(error.value) == (
        "front.html: no main text was found in the page: it holds only navigation, banners, footers or similar "
        "page furniture, or nothing at all. If the page does show an article, copy its text into a .txt file "
        "and import that.")


def test_empty_page_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match=r"^empty.html contains no text\.$"):
        read_file(write(tmp_path / "empty.html", "  \n"))


def test_page_above_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path / "big.html", ARTICLE)
    with pytest.raises(DocumentImportError, match=r"^big.html is 2,865 bytes; documents above 1,000 bytes are refused"):
        read_file(path, limits=ReadLimits(max_bytes=1000))


def test_binary_file_named_html_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.html"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(DocumentImportError, match="photo.html looks like a binary file"):
        read_file(path)


def test_reading_pages_never_touches_the_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages name their own addresses (canonical links, images, scripts): nothing of them is fetched."""
    import htmldate.utils
    import trafilatura.downloads

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(trafilatura.downloads, "fetch_url", refuse)
    monkeypatch.setattr(trafilatura.downloads, "fetch_response", refuse)
    monkeypatch.setattr(htmldate.utils, "fetch_url", refuse)
    for name, text in (("a.html", ARTICLE), ("b.html", PORTUGUESE), ("c.html", POLICY_TABLE)):
        assert read_file(write(tmp_path / name, text))[0].text


def test_html_suffixes_are_supported() -> None:
    assert {".html", ".htm"} <= set(SUPPORTED_SUFFIXES)


def test_trafilatura_loads_only_for_web_pages() -> None:
    """trafilatura and lxml take a tenth of a second to import: the program's start and imports of other
    formats do without them."""
    code = ("import sys, gripcode.corpus.importer, gripcode.cli.main\n"
            "print(sorted(m for m in ('trafilatura', 'lxml', 'htmldate') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_a_page_is_decoded_once_by_its_declaration_without_a_guess(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Telling a page from a Factiva export needs no decoding: a page whose declared charset reads it is read
    even where detection would find no encoding at all."""
    import charset_normalizer

    def no_guess(*args: object, **kwargs: object) -> list[object]:
        return []

    monkeypatch.setattr(charset_normalizer, "from_bytes", no_guess)
    [page] = read_file(write(tmp_path / "kazakhstan.html", RUSSIAN, "cp1251"))
    assert paragraphs(page.text) == RUSSIAN_PARAGRAPHS


def test_a_page_with_an_article_div_of_another_site_is_a_web_page(tmp_path: Path) -> None:
    """Factiva's article div is "article enArticle"; a site's "article myArticle" without Factiva's document
    ids is an ordinary page, not a damaged export."""
    text = ('<html><head><title>Niobium in Minas Gerais</title></head><body><div class="article myArticle">'
            "<h1>Niobium in Minas Gerais</h1><p>The mine at Araxá produces most of the world's niobium, and the "
            "state development bank holds a share of the company that runs it.</p><p>Officials said the "
            "concession would be reviewed in 2030.</p></div></body></html>")
    [page] = read_file(write(tmp_path / "niobium.html", text))
    assert page.kind is None
    assert "export_format" not in page.metadata
    assert paragraphs(page.text)[-2:] == [
        ("The mine at Araxá produces most of the world's niobium, and the state development bank holds a share "
         "of the company that runs it."),
        "Officials said the concession would be reviewed in 2030.",
    ]


# --- through the installed program --------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROGRAM), *args], check=False, capture_output=True, text=True, timeout=300)


def test_program_imports_a_page_and_shows_its_title(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    assert run("--db", db, "init").returncode == 0
    page = write(tmp_path / "rare-earth-strategies.html", ARTICLE)
    result = run("--db", db, "import", str(page), "--kind", "media")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "imported      1  Why some mining countries build magnet industries  (154 words)")
    listed = json.loads(run("--db", db, "docs", "list", "--format", "json").stdout)
    assert [(d["title"], d["kind"], d["language"], d["date"], d["file"]) for d in listed] == [
        ("Why some mining countries build magnet industries", "media", "en", "2023-03-14",
         "rare-earth-strategies.html")]
    shown = run("--db", db, "show", "1")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("# 1: Why some mining countries build magnet industries\n"
                                   "# media, case -, en, 2023-03-14, 154 words\n")
    assert "[4] Three paths from the mine" in shown.stdout
    assert "cookies" not in shown.stdout and "Privacy policy" not in shown.stdout
    with sqlite3.connect(tmp_path / "p.db") as conn:
        source, metadata = conn.execute("SELECT source, metadata FROM documents").fetchone()
        units = conn.execute("SELECT count(*) FROM units WHERE kind = 'paragraph'").fetchone()[0]
    assert source == "Campus News" and json.loads(metadata)["author"] == "Helena Marques"
    assert units == len(ARTICLE_PARAGRAPHS)


def test_program_refuses_a_page_without_main_text(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    assert run("--db", db, "init").returncode == 0
    good = write(tmp_path / "article.html", ARTICLE)
    bad = write(tmp_path / "front.html", NO_MAIN_TEXT)
    result = run("--db", db, "import", str(good), str(bad))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: front.html: no main text was found in the page")
    assert "Traceback" not in result.stderr
    assert json.loads(run("--db", db, "docs", "list", "--format", "json").stdout) == []
