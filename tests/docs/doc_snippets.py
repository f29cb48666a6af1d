"""The README's and the guide's code blocks, for the tests that run them
(tests/docs/test_docs.py, tests/e2e/test_docs.py).

Every fenced block carries a tag saying what it is:
  ini          a pam_fac.conf snippet (a whole file or some keys of one)
  pam          a PAM stack; its first line is "# /etc/pam.d/<service> ..."
  sshd_config  sshd settings; its first line is "# /etc/ssh/sshd_config.d/pam_fac.conf"
  sh, console, text   commands and what a terminal shows (not run)

A config snippet runs against the simulator: the keys that name a site
(server, credentials, CA, pins, realm, directories) are replaced by the
test's, every other key is kept exactly as written.
"""

import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
DOCUMENTS = ("README.md", "docs/guide.md")
TAGS = ("ini", "pam", "sshd_config", "sh", "console", "text")

# Keys whose documented values only make sense at the reader's site.
SITE_KEYS = {"server", "api_user", "api_key", "api_key_file", "ca_file", "ca_path", "pinned_pubkey", "http_proxy",
             "realm", "ftc_client_id", "ftc_client_secret", "ftc_client_secret_file", "vdom", "ftc_sn",
             "state_dir", "rescue_dir"}

TRUE_WORDS = ("yes", "true", "on", "1")


class Block:
    def __init__(self, document, line, tag, text):
        self.document, self.line, self.tag, self.text = document, line, tag, text

    @property
    def where(self):
        return "%s:%d" % (self.document, self.line)

    def lines(self):
        return self.text.splitlines()

    def header(self):
        """The first line's comment: "/etc/pam.d/sudo" for "# /etc/pam.d/sudo (...)"."""
        first = self.lines()[0] if self.text else ""
        m = re.match(r"#\s*(\S+)", first)
        return m.group(1) if m else ""

    def __repr__(self):
        return "%s %s block" % (self.where, self.tag)


def blocks(documents=DOCUMENTS):
    """Every fenced block of the documents, indentation removed."""
    found = []
    for document in documents:
        with open(os.path.join(SRC, document), encoding="utf-8") as f:
            lines = f.read().split("\n")
        i = 0
        while i < len(lines):
            m = re.match(r"^(\s*)```(.*)$", lines[i])
            if not m:
                i += 1
                continue
            indent, tag, start = m.group(1), m.group(2).strip(), i + 1
            body = []
            i += 1
            while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
                i += 1
            found.append(Block(document, start, tag, "\n".join(body)))
            i += 1
    return found


def of_tag(tag):
    return [b for b in blocks() if b.tag == tag]


def parse_config(text):
    """key -> value of a config snippet (pam_fac.conf(5) syntax)."""
    settings = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if "=" not in stripped:
            raise ValueError("not a 'key = value' line: %r" % line)
        key, value = stripped.split("=", 1)
        settings[key.strip()] = value.strip()
    return settings


def stack_service(block):
    """The service a pam block is for, from its first line."""
    m = re.fullmatch(r"/etc/pam\.d/([a-z0-9._-]+)", block.header())
    if not m:
        raise ValueError("%s: a pam block starts with '# /etc/pam.d/<service>'" % block.where)
    return m.group(1)


def pam_words(line):
    """A PAM line's words, [bracketed] ones kept whole."""
    return re.findall(r"\[[^\]]*\]|\S+", line.split("#", 1)[0])


def fac_arguments(block):
    """key -> value of the pam_fac.so line's key=value arguments."""
    for line in block.lines():
        words = pam_words(line)
        if len(words) >= 3 and os.path.basename(words[2]) == "pam_fac.so":
            return dict(a.split("=", 1) for a in words[3:] if "=" in a)
    raise ValueError("%s: no pam_fac.so line" % block.where)


def is_true(value):
    return str(value).lower() in TRUE_WORDS


def answers(settings, code, password):
    """What a user answers, in order, under these settings; variants for
    code_or_push: (name, answers) pairs."""
    second = settings.get("second_factor", "code_or_push")
    first = []
    if is_true(settings.get("password", "no")):
        if is_true(settings.get("otp_append", "no")):
            return [("password+code", [password + code])]
        first = [password]
    if second == "code":
        return [("code", first + [code])]
    if second in ("push", "none"):
        return [(second, first)]
    return [("code", first + [code]), ("push", first + [""])]
