"""model/secrets.py: credentials found by name and by shape, in the places OpenStack puts
them (oslo.messaging's envelopes, Nova's RPC arguments, os-brick's connection_info, URLs,
free text), and nothing else taken."""

from __future__ import annotations

import json

import pytest

from osfsck.model.secrets import REDACTED, redact, redact_connection_info, redact_text, redact_url, secret_name
from tests.support.timebox import answers_within

FERNET = "gAAAAABnQ2x" + "Vb3Jk_-" * 24 + "=="  # the shape of a Keystone Fernet token (~180 chars)
JWS = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlX3BhcnQ"


@pytest.mark.parametrize(
    "name",
    [
        "_context_auth_token",
        "auth_token",
        "X-Auth-Token",
        "X-Subject-Token",
        "admin_password",
        "adminPass",
        "new_pass",
        "auth_password",
        "discovery_auth_password",
        "keyring",
        "password_0",
        "injected_files",
        "user_data",
        "Authorization",
        "private_key",
        "_context_auth_token_info",
        "secret",
        "client_secret",
        "passwd",
        "PASSWORD",
    ],
)
def test_secret_names(name):
    assert secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "secret_uuid",
        "secret_type",
        "auth_username",
        "auth_method",
        "auth_enabled",
        "target_iqn",
        "key_data",
        "encryption_key_id",
        "_context_request_id",
        "_unique_id",
        "_context_service_catalog",
        "token_expires_at",
        "password_file",
        "secret_env",
        3,
        None,
    ],
)
def test_names_that_are_not_secrets(name):
    assert not secret_name(name)


def _nova_cast(token: str | None = FERNET) -> dict:
    """A Nova compute cast as oslo.messaging packs it: context as _context_* members, a
    block device mapping whose connection_info is JSON text inside the JSON."""
    info = {
        "driver_volume_type": "iscsi",
        "data": {
            "target_iqn": "iqn.2010-10.org.openstack:volume-1",
            "auth_method": "CHAP",
            "auth_username": "u1",
            "auth_password": "Ch4pS3cret",
            "secret_uuid": "s-1",
        },
    }
    return {
        "method": "rebuild_instance",
        "version": "6.0",
        "_msg_id": None,
        "_unique_id": "ab" * 16,
        "_context_auth_token": token,
        "_context_request_id": "req-1",
        "_context_user": "u",
        "_context_service_catalog": [{"type": "volumev3", "endpoints": [{"url": "http://cinder/v3"}]}],
        "args": {
            "new_pass": "N3wPass",
            "injected_files": [["/etc/motd", "aGVsbG8="]],
            "bdms": [{"nova_object.data": {"connection_info": json.dumps(info)}}],
            "instance": {"nova_object.data": {"uuid": "i-1", "user_data": "I2Nsb3VkLWNvbmZpZw=="}},
        },
    }


def test_a_nova_cast_in_the_2_0_envelope_loses_every_secret_and_keeps_the_rest():
    env = json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(_nova_cast())})
    clean, found = redact(env)
    for secret in (FERNET, "Ch4pS3cret", "N3wPass", "aGVsbG8=", "I2Nsb3VkLWNvbmZpZw=="):
        assert secret not in clean
    assert sorted(p.rsplit(".", 1)[-1] for p in found) == [
        "_context_auth_token",
        "auth_password",
        "injected_files",
        "new_pass",
        "user_data",
    ]
    inner = json.loads(json.loads(clean)["oslo.message"])
    assert inner["_context_request_id"] == "req-1" and inner["_unique_id"] == "ab" * 16
    info = json.loads(inner["args"]["bdms"][0]["nova_object.data"]["connection_info"])
    assert info["data"] == {
        "target_iqn": "iqn.2010-10.org.openstack:volume-1",
        "auth_method": "CHAP",
        "auth_username": "u1",
        "auth_password": REDACTED,
        "secret_uuid": "s-1",
    }


def test_the_legacy_unenveloped_form_too():
    clean, found = redact(json.dumps(_nova_cast()))
    assert FERNET not in clean and "Ch4pS3cret" not in clean and len(found) == 5


def test_a_message_without_secrets_is_left_exactly_as_it_was():
    # an admin context (periodic tasks) has no token: None is no secret
    text = json.dumps(
        {
            "oslo.version": "2.0",
            "oslo.message": json.dumps({"method": "ping", "_context_auth_token": None, "args": {"password_hint": ""}}),
        }
    )
    assert redact(text) == (text, [])


def test_tokens_by_shape_under_any_name():
    clean, found = redact({"note": f"retry with {FERNET}", "blob": JWS, "hdr": "Authorization: Bearer abcdefgh1234"})
    assert FERNET not in json.dumps(clean) and JWS not in json.dumps(clean) and "abcdefgh1234" not in json.dumps(clean)
    assert len(found) == 3


def test_free_text_assignments_and_urls():
    text, n = redact_text("connect failed: mysql+pymysql://nova:DbP4ss@db:3306/nova; password=Hunter2 token: abc123")
    assert "DbP4ss" not in text and "Hunter2" not in text and "abc123" not in text and n == 3
    assert text.startswith("connect failed: mysql+pymysql://nova:***@db:3306/nova")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mysql://nova:s3cret@db/nova", "mysql://nova:***@db/nova"),
        ("mysql://nova:p@ss/w@db/nova", "mysql://nova:***@db/nova"),  # an unencoded @ and / in the password
        ("rabbit://nova:R4bbit@mq1:5672/", "rabbit://nova:***@mq1:5672/"),
        ("mysql://{username}:{password}@{hostname}/nova", "mysql://{username}:***@{hostname}/nova"),
        ("sqlite:////var/lib/nova.sqlite", "sqlite:////var/lib/nova.sqlite"),
        ("mysql://nova@db/nova", "mysql://nova@db/nova"),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown and redact_url(shown) == shown


def test_connection_info_keeps_what_checks_read():
    text = json.dumps(
        {
            "driver_volume_type": "rbd",
            "data": {
                "name": "volumes/volume-1",
                "auth_username": "cinder",
                "secret_type": "ceph",
                "secret_uuid": "s-1",
                "keyring": "[client.cinder]\nkey = AQBk==",
            },
        }
    )
    out = json.loads(redact_connection_info(text))
    assert out["data"] == {
        "name": "volumes/volume-1",
        "auth_username": "cinder",
        "secret_type": "ceph",
        "secret_uuid": "s-1",
        "keyring": REDACTED,
    }
    plain = '{"driver_volume_type": "iscsi", "data": {"target_iqn": "iqn.x"}}'
    assert redact_connection_info(plain) is plain and redact_connection_info(None) is None


@pytest.mark.parametrize("depth", [900, 5000])
def test_a_value_nested_too_deep_to_walk_is_replaced_whole(depth):
    deep = '{"a": ' * depth + '{"password": "Hunter2"}' + "}" * depth
    for value in (deep, json.dumps({"oslo.message": deep})):
        clean, found = redact(value)
        assert "Hunter2" not in json.dumps(clean) and found
    assert "Hunter2" not in redact_connection_info('{"data": ' + deep + "}")


@answers_within(10)
def test_a_long_word_is_redacted_in_linear_time():
    # a name=value search that may start anywhere in a word and grow both ways took
    # cubic time: 16,000 letters in a row (a base64 payload, a finding's hostile name) cost
    # 47 s, a megabyte would never end
    word = "x" * 1_000_000
    assert redact_text(f"Domain {word} on hv1 password=Pl4nted") == (f"Domain {word} on hv1 password={REDACTED}", 1)
    assert redact_text(word + "password=Pl4nted") == (word + f"password={REDACTED}", 1)
    assert redact_text("args=--password=Pl4nted") == (f"args=--password={REDACTED}", 1)


@answers_within(10)
def test_many_url_starts_are_redacted_in_linear_time():
    # each "://x:" scanned on to the end of its run: 100 KB of them took 8 s
    many = "://a:" * 200_000
    assert redact_text(many + " mysql://nova:Pl4nted@db/nova")[0] == many + f" mysql://nova:{REDACTED}@db/nova"


def test_the_text_rules_skip_values_without_a_hint_and_still_find_every_shape():
    # redact_text looks for a shape only where its hint is (the speed of reading Cinder's
    # connection_info at L): every shape must still be found, in any case for the schemes
    for text in (
        "mysql://nova:Pl4nted@db/nova",
        "gAAAAA" + "x" * 60,
        "eyJhbGciOiJI.eyJzdWIiOiIx.c2lnbmF0dXJl",
        "PKIZ_" + "y" * 50,
        "AUTHORIZATION: BEARER abcdefgh12345",
        "auth_password=Pl4nted",
    ):
        clean, n = redact_text(text)
        assert n == 1 and "Pl4nted" not in clean and REDACTED in clean, text
    assert redact_text("iqn.2010-10.org.openstack:volume-1 10.0.0.5:3260") == (
        "iqn.2010-10.org.openstack:volume-1 10.0.0.5:3260",
        0,
    )
