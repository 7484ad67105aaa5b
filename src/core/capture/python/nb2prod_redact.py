# -*- coding: utf-8 -*-
"""nb2prod secret redaction on the Python side of a run.

The tracker decides what is secret (src/core/capture/secrets.ts: values of
environment variables with secret-looking names, secret command-line
arguments and params, passwords in URLs) and passes the values in
$NB2PROD_REDACT, a JSON list of strings.  What the run's processes write
into the store goes through here first: capture events (nb2prod._capture)
and the executed notebook (nb2prod_runner).  Every value is replaced by
``***`` in the forms it takes in text -- as is, JSON-, HTML-, backslash- and
URL-escaped -- longest first.  Values shorter than MIN_LENGTH are not
searched for (the tracker replaces them by name).  Standard library only.
"""
import html
import json
import os
import urllib.parse

MASK = "***"
MIN_LENGTH = 6


def _variants(value):
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value, quote=True),
        html.escape(value, quote=True).replace("&#x27;", "&#39;"),
        value.replace("\\", "\\\\"),
        urllib.parse.quote(value, safe=""),
    }
    return forms


class Redactor(object):
    """Replaces secret values in text (``text``), in a JSON text line
    (``json_line``: the forms as they appear inside JSON strings) and in
    nested lists/dicts of strings (``deep``)."""

    def __init__(self, values):
        forms = set()
        for value in values:
            if isinstance(value, str) and len(value) >= MIN_LENGTH:
                forms.update(_variants(value))
        self.patterns = sorted(forms, key=len, reverse=True)
        json_forms = set()
        for form in forms:
            json_forms.add(json.dumps(form)[1:-1])
            json_forms.add(form)
        self.json_patterns = sorted(json_forms, key=len, reverse=True)

    def __bool__(self):
        return bool(self.patterns)

    def text(self, text):
        for pattern in self.patterns:
            if pattern in text:
                text = text.replace(pattern, MASK)
        return text

    def json_line(self, line):
        for pattern in self.json_patterns:
            if pattern in line:
                line = line.replace(pattern, MASK)
        return line

    def deep(self, value):
        """Redact every string in *value* in place where it is mutable;
        returns the (possibly new) value."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            for i, item in enumerate(value):
                value[i] = self.deep(item)
            return value
        if isinstance(value, dict):
            for key in list(value.keys()):
                item = self.deep(value[key])
                new_key = self.text(key) if isinstance(key, str) else key
                if new_key != key:
                    del value[key]
                value[new_key] = item
            return value
        return value


def from_environment(environ=None):
    """The run's Redactor from $NB2PROD_REDACT (empty when unset or invalid)."""
    environ = os.environ if environ is None else environ
    try:
        values = json.loads(environ.get("NB2PROD_REDACT") or "[]")
    except ValueError:
        values = []
    if not isinstance(values, list):
        values = []
    return Redactor([v for v in values if isinstance(v, str)])
