"""whitelabel/dns.py against the local authoritative server (devtools/dns_server.py): the real wire path."""

import time

import dns.message
import dns.query
import dns.rcode

from whitelabel import dns as resolver
from whitelabel.dns import Outcome


def test_txt_records_are_found_with_each_records_value(dns_zone):
    dns_zone.record_set("_tollgate-challenge.portal.example.com", "TXT", ["token-one", "other"])

    lookup = resolver.txt_records("_tollgate-challenge.portal.example.com")

    assert lookup.outcome is Outcome.FOUND
    assert sorted(lookup.values) == ["other", "token-one"]


def test_a_txt_value_longer_than_one_string_is_joined_back(dns_zone):
    dns_zone.record_set("long.example.com", "TXT", ["x" * 300])

    assert resolver.txt_records("long.example.com").values == ("x" * 300,)


def test_cname_target_is_lower_cased_without_the_final_dot(dns_zone):
    dns_zone.record_set("portal.example.com", "CNAME", ["Alpha.Domains.Localhost."])

    lookup = resolver.cname_target("PORTAL.example.com.")

    assert (lookup.name, lookup.outcome, lookup.values) == ("portal.example.com", Outcome.FOUND,
                                                             ("alpha.domains.localhost",))


def test_addresses_follow_a_cname_to_the_targets_records(dns_zone):
    dns_zone.record_set("portal.example.com", "CNAME", ["edge.example.net"])
    dns_zone.record_set("edge.example.net", "A", ["192.0.2.7"])
    dns_zone.record_set("edge.example.net", "AAAA", ["2001:db8::7"])

    lookup = resolver.addresses("portal.example.com")

    assert lookup.outcome is Outcome.FOUND
    assert set(lookup.values) == {"192.0.2.7", "2001:db8::7"}


def test_an_unknown_name_is_nxdomain(dns_zone):
    assert resolver.txt_records("nowhere.example.com").outcome is Outcome.NXDOMAIN
    assert resolver.addresses("nowhere.example.com").outcome is Outcome.NXDOMAIN


def test_a_name_without_records_of_the_type_is_no_answer(dns_zone):
    dns_zone.record_set("example.com", "A", ["192.0.2.1"])

    assert resolver.cname_target("example.com").outcome is Outcome.NO_ANSWER


def test_a_name_with_records_only_below_it_exists_without_an_answer(dns_zone):
    dns_zone.record_set("_tollgate-challenge.portal.example.com", "TXT", ["token"])

    assert resolver.addresses("portal.example.com").outcome is Outcome.NO_ANSWER


def test_a_nameserver_that_never_answers_is_a_timeout_within_the_setting(dns_zone):
    dns_zone.slow_add("slow.example.com")

    started = time.monotonic()
    lookup = resolver.txt_records("slow.example.com")

    assert lookup.outcome is Outcome.TIMEOUT
    assert time.monotonic() - started < 2


def test_records_changed_while_the_server_runs_are_seen_at_once(dns_zone):
    dns_zone.record_set("portal.example.com", "TXT", ["before"])
    assert resolver.txt_records("portal.example.com").values == ("before",)

    dns_zone.record_set("portal.example.com", "TXT", ["after"])
    assert resolver.txt_records("portal.example.com").values == ("after",)

    dns_zone.name_forget("portal.example.com")
    assert resolver.txt_records("portal.example.com").outcome is Outcome.NXDOMAIN


def test_the_local_server_answers_over_tcp_too(dns_zone, settings):
    dns_zone.record_set("portal.example.com", "A", ["192.0.2.9"])

    response = dns.query.tcp(dns.message.make_query("portal.example.com", "A"),
                             settings.DNS_RESOLVER_NAMESERVERS[0], port=settings.DNS_RESOLVER_PORT, timeout=2)

    assert response.rcode() == dns.rcode.NOERROR
    assert response.answer[0][0].address == "192.0.2.9"

