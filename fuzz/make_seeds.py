#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ from the project's own test data.

Responses come from the rows of client/tests/proto_framing.rs (each `row(...)`'s byte string), URLs
and redirect references from the unit tests of client/src/url.rs and client/src/reference.rs (the RFC 3986
examples); DNS messages are built here field by field. Rerun after adding test rows:
    python3 fuzz/make_seeds.py
"""
import ast, hashlib, os, re, struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")


def write(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rust_bytes(lit):
    """A Rust b"..." literal (the escapes the tests use) as bytes."""
    return ast.literal_eval("b" + lit)


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


# --- response / chunked: flags byte, 0 cuts, then the response -------------------------------
framing = read("client/tests/proto_framing.rs")
head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
for m in re.finditer(r'row\("[^"]*", (GET|HEAD), b("(?:[^"\\]|\\.)*"), (true|false)', framing):
    method, lit, eof = m.groups()
    resp = rust_bytes(lit)
    flags = (1 if method == "HEAD" else 0) | (2 if eof == "true" else 0)
    # Two cuts too, so the split machinery starts from something.
    cuts = struct.pack("<HH", len(resp) // 3, 2 * len(resp) // 3)
    write("response", bytes([flags, 0]) + resp)
    write("response", bytes([flags, 2]) + cuts + resp)
    if resp.startswith(head):
        write("chunked", bytes([flags & 2, 0]) + resp[len(head):])
write("chunked", b"\x00\x00" + b"5\r\nhello\r\n0\r\n\r\n")
write("chunked", b"\x00\x00" + b"a;x=\"y\"\r\n0123456789\r\n0\r\nT: 1\r\n\r\n")
write("chunked", b"\x02\x01\x03\x00" + b"3\r\nabc\r\n0\r\n\r\n")

# --- url -------------------------------------------------------------------------------------
url_tests = read("client/src/url.rs")
for m in re.finditer(r'(?:ok|err|parse|parse_location)\("((?:[^"\\]|\\.)*)"\)', url_tests):
    write("url", ast.literal_eval('"' + m.group(1) + '"').encode())

# --- redirect: base, newline, reference -------------------------------------------------------
join_tests = read("client/src/reference.rs")
for m in re.finditer(r'\("((?:[^"\\]|\\.)*)", "(?:[^"\\]|\\.)*"\)', join_tests):
    write("redirect", b"http://a/b/c/d;p?q\n" + m.group(1).encode())
for base, ref in [("http://127.0.0.1:8080/a/b", "/x"), ("https://h/", "http://other:1/y z"),
                  ("http://a/", "//h:2"), ("http://a/p", "?only=query")]:
    write("redirect", f"{base}\n{ref}".encode())


# --- dns_message: pick byte, then a message ---------------------------------------------------
def name(text):
    out = b""
    for label in text.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def header(ident, flags, qd, an, ns, ar):
    return struct.pack(">HHHHHH", ident, flags, qd, an, ns, ar)


def rr(owner, rtype, ttl, rdata):
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


q = name("example.com")
ptr12 = b"\xc0\x0c"
a_reply = header(0x1234, 0x8180, 1, 1, 0, 0) + q + b"\x00\x01\x00\x01" + rr(ptr12, 1, 60, bytes([192, 0, 2, 1]))
write("dns_message", b"\x00" + a_reply)
aaaa_reply = header(0x1234, 0x8180, 1, 1, 0, 0) + q + b"\x00\x1c\x00\x01" + rr(ptr12, 28, 60, bytes(15) + b"\x01")
write("dns_message", b"\x01" + aaaa_reply)
cname = header(7, 0x8180, 1, 2, 0, 0) + q + b"\x00\x01\x00\x01" + rr(ptr12, 5, 300, b"\x03www" + ptr12) \
    + rr(b"\xc0\x29", 1, 30, bytes([198, 51, 100, 7]))
write("dns_message", b"\x00" + cname)
nx = header(9, 0x8183, 1, 0, 1, 0) + q + b"\x00\x01\x00\x01" + rr(ptr12, 6, 900, b"\x02ns" + ptr12 + b"\x04host" + ptr12 + struct.pack(">IIIII", 1, 2, 3, 4, 60))
write("dns_message", b"\x00" + nx)
loop = header(5, 0x8180, 1, 1, 0, 0) + q + b"\x00\x01\x00\x01" + rr(b"\xc0\x1d", 1, 60, bytes(4))
write("dns_message", b"\x00" + loop)
edns = header(11, 0x8180, 1, 1, 0, 1) + q + b"\x00\x01\x00\x01" + rr(ptr12, 1, 60, bytes([10, 0, 0, 1])) \
    + b"\x00" + struct.pack(">HHIH", 41, 1232, 0, 0)
write("dns_message", b"\x02" + edns)
write("dns_message", b"\x00" + a_reply[:20])  # truncated

# --- fetch_lines: expansion byte, then a list -------------------------------------------------
for text in [b"http://a/\nhttps://b:8443/x\n", b"  # comment\n\n\thttp://c/ \r\nhttp://d/",
             b"http://\xff\xfe/\n", b"\x80" + b"http://long/" + b"x" * 200 + b"\n", b"\n\n\n"]:
    write("fetch_lines", text if text.startswith(b"\x80") else b"\x00" + text)
