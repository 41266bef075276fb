"""The encoding a saved web page declares for itself, read as browsers read it: used by the web-page reader and
by the Factiva reader, so that a page is decoded once and by the same rule whichever reads it. Kept apart from
``web_page`` so that the Factiva reader does not load trafilatura and lxml."""

from __future__ import annotations

import codecs
import re

# Where a page declares its encoding: <meta charset=...>, <meta http-equiv="Content-Type" content="...;
# charset=...">, or an XHTML page's XML declaration. Looked for in the page's first bytes, as browsers do.
_DECLARATION_BYTES = 8192
_META_CHARSET = re.compile(rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)""")
# What browsers read a few declared names as (the WHATWG Encoding Standard): the Latin-1 family is
# windows-1252, GB2312 and GBK are GB18030, EUC-KR is windows-949; a UTF-16 name in an ASCII page means UTF-8.
_BROWSER_CODECS = {
    "ascii": "cp1252", "latin-1": "cp1252", "iso8859-1": "cp1252", "gb2312": "gb18030", "gbk": "gb18030",
    "euc_kr": "cp949", "iso8859-9": "cp1254", "tis-620": "cp874", "iso8859-11": "cp874",
    "utf-16": None, "utf-16-le": None, "utf-16-be": None, "utf-32": None, "utf-32-le": None, "utf-32-be": None,
}


def declared_encoding(data: bytes) -> str | None:
    """The Python codec for the encoding a page declares in its first bytes, read as browsers read it; None
    when it declares none, or one Python does not know."""
    head = data[:_DECLARATION_BYTES]
    found = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if found is None:
        return None
    try:
        codec = codecs.lookup(found.group(1).decode("ascii")).name
    except LookupError:
        return None
    return _BROWSER_CODECS.get(codec, codec)
