"""C1: a website as people type it becomes its registrable domain; garbage is refused, with why."""

import pytest

from keel.domains import NotADomain, registrable_domain


@pytest.mark.parametrize(
    ("typed", "domain"),
    [
        ("https://WWW.Example.co.uk/pricing", "example.co.uk"),
        ("example.com:443", "example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("BÜCHER.DE.", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("  www.example.com  ", "example.com"),
        ("http://user:secret@shop.example.com.au/cart?x=1#top", "example.com.au"),
        ("blog.news.example.org", "example.org"),
    ],
)
def test_c1_registrable_domain_of_what_people_type(typed: str, domain: str) -> None:
    assert registrable_domain(typed) == domain


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("localhost", "no public suffix"),
        ("192.168.10.1", "no public suffix"),
        ("co.uk", "is a public suffix"),
        ("https://", "no host"),
        ("exa mple.com", "not a valid domain"),
        ("-bad.com", "not a valid domain"),
    ],
)
def test_c1_what_is_not_a_registrable_domain_is_refused_with_the_reason(
    typed: str, reason: str
) -> None:
    with pytest.raises(NotADomain, match=reason):
        registrable_domain(typed)
