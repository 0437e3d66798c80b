"""A corpus of strings, and what PyYAML writes for each in a ZenML store.

For each string, as a secret's name, as one of its keys and as a value,
prints what `yaml.dump` (ZenML's `yaml_utils.write_yaml`, default
settings) writes for a store holding it:

    python yaml_corpus.py [COUNT]   -> JSON [{"s", "as_name", "as_key", "as_value"}, ...]

The strings are every implicit resolver's edge cases of YAML 1.1, then
Hypothesis's (seeded: the same corpus every run), from any Unicode text
and from an alphabet dense in what YAML treats specially, until COUNT
(default 10,000) strings.
"""

import json
import sys

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EDGES = [
    # bool
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False",
    "FALSE", "on", "On", "ON", "off", "Off", "OFF", "y", "n", "yEs", "oN",
    # int
    "0", "7", "-1", "+1", "1_000", "1__", "0b1", "0b1_0", "-0b1", "0b", "0o7", "017", "0_",
    "08", "0x1F", "0x_", "0xG", "+0x1f", "1:30", "190:20:30", "1:60", "1:5:9", "0:30",
    # float
    "1.5", "1.", ".5", "1e3", "1.5e3", "1.5e+3", "1.5E-3", ".5e+1", "1_0.0_1", "+.inf",
    "-.Inf", ".INF", ".inf", ".nan", ".NaN", ".NAN", "+.nan", "190:20:30.15", "1:30.",
    "1.5e+", "1.e+3",
    # null
    "", "~", "null", "Null", "NULL", "nULL",
    # timestamp
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
    "2001-12-15T02:59:43.1Z", "2002-12-14", "2001-1-1", "2001-12-14 21:59:43",
    "2001-12-14 21:59:43 ", "2001-12-14\t21:59:43.10Z",
    # merge, value, yaml
    "<<", "=", "!", "&", "*", "<", "==",
    # indicators and whitespace
    "- a", "-a", "-", "? a", "?a", ": a", ":a", "a: b", "a:b", "a #b", "a#b", "#a", "---",
    "...", "--- a", "[a]", "{a}", "a,b", "'a'", '"a"', "%a", "@a", "`a", "|a", ">a",
    " a", "a ", "a  b", "a\nb", "a\n", "\na", "a \nb", "a\n b", "a\tb", "\t", "\0",
    "\x7f", "\x85", "\xa0", "\u2028", "\u2029", "\ufeff", "clé", "秘密", "😀", "\U0010fffd",
    # long
    "a" * 127, "a" * 128, "a" * 200, "a b " * 40, "é" * 70, ("x" * 79 + " ") * 3,
    "'" * 90, "x" * 100 + "\n" + "y" * 100,
]

SPECIAL = "-+.:_0123456789eExXbBoO~nNyYtTfF#'\"\\ \n\t<=!&*|>%@`,[]{}?é\u2028\x85\xa0"


def dump(name, key, value):
    return yaml.dump({name: {key: value}})


def corpus(count):
    strings = list(dict.fromkeys(EDGES))
    seen = set(strings)
    text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
    dense = st.text(st.sampled_from(SPECIAL), max_size=24)
    batch = st.lists(st.one_of(text, dense), min_size=40, max_size=40)

    @settings(
        max_examples=count // 20,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(batch)
    def collect(found):
        for s in found:
            if s not in seen:
                seen.add(s)
                strings.append(s)

    collect()
    # Hypothesis shrinks towards short strings, which repeat: fill the rest
    # by joining what was found, still the same every run.
    i = 0
    while len(strings) < count:
        s = strings[i % len(strings)] + strings[(i * 7 + 3) % len(strings)]
        if s not in seen:
            seen.add(s)
            strings.append(s)
        i += 1
    return strings


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    strings = corpus(count)
    cases = [
        {
            "s": s,
            "as_name": dump(s, "k", "dg=="),
            "as_key": dump("n", s, "dg=="),
            "as_value": dump("n", "k", s),
        }
        for s in strings
    ]
    json.dump(cases, sys.stdout)
