"""Website domains as people type them, reduced to the registrable domain (C1).

The public suffix list is the snapshot bundled with tldextract: nothing is downloaded at run time.
"""

from functools import lru_cache
from urllib.parse import urlsplit

import idna
import tldextract

_EXTRACT = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False
)


class NotADomain(ValueError):
    """The text names no registrable domain; the message says why."""


def _host(text: str) -> str:
    """The host part of a URL or of a bare `host[:port][/path]`."""
    candidate = text.strip()
    if not candidate:
        raise NotADomain("is empty")
    if "://" not in candidate:
        candidate = f"//{candidate}"
    try:
        host = urlsplit(candidate).hostname
    except ValueError as error:
        raise NotADomain(f"is not a website address ({error})") from None
    if not host:
        raise NotADomain("has no host name")
    return host.rstrip(".")


@lru_cache(maxsize=65536)
def registrable_domain(text: str) -> str:
    """`https://WWW.Example.co.uk/pricing` -> `example.co.uk`; `bücher.de` -> `xn--bcher-kva.de`.

    Scheme, credentials, port, path, `www.` and case go; IDN labels become punycode. An IP address,
    a single label such as `localhost`, or a bare public suffix such as `co.uk` is refused.
    """
    host = _host(text)
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise NotADomain(f"is not a valid domain name ({error})") from None
    parts = _EXTRACT(ascii_host)
    if not parts.suffix:
        raise NotADomain("has no public suffix (an IP address or a local name)")
    if not parts.domain:
        raise NotADomain(f"is a public suffix ({parts.suffix}), not a registrable domain")
    return f"{parts.domain}.{parts.suffix}"
