"""MIME parsing without a server: malformed parts, 5,000 recipients, missing headers, scripts."""

from crm.mailbox.parsing import MAX_ADDRESSES, parse, subject_key


def test_a_malformed_part_and_bad_base64_do_not_break_the_message():
    raw = (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: Broken\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe text.\r\n"
        b"--XX\r\nContent-Type: application/octet-stream; name=x.bin\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=x.bin\r\n\r\n!!!not base64@@@\r\n"
        b"--XX\r\nContent-Type: text/html\r\n\r\n<p>unterminated"  # no closing boundary
    )
    parsed = parse(raw)
    assert parsed.text.strip() == "The text."
    assert parsed.attachments[0]["name"] == "x.bin"
    assert parsed.message_id.endswith("@no-message-id.invalid>")  # none given: one made from the bytes
    assert parse(raw).message_id == parsed.message_id


def test_five_thousand_recipients_are_capped():
    to = ", ".join(f"p{i}@example.com" for i in range(5000))
    parsed = parse(f"From: a@example.com\r\nTo: {to}\r\nSubject: All\r\n\r\nHi".encode())
    assert len(parsed.to) == MAX_ADDRESSES


def test_scripts_never_survive_and_dates_default():
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nDate: not a date\r\nContent-Type: text/html\r\n\r\n"
        b'<img src=x onerror="alert(1)"><script>alert(2)</script><p>ok</p>'
    )
    parsed = parse(raw)
    assert "script" not in parsed.html and "onerror" not in parsed.html and "ok" in parsed.text
    assert parsed.sent_at is not None


def test_subject_key_drops_reply_prefixes():
    assert subject_key("RE: Fwd: AW:  Pricing   2027") == subject_key("pricing 2027") == "pricing 2027"
