#!/usr/bin/env python3
"""The size rules of src/ (docs/architecture.md): no source file over 700 lines and no function
over 100 lines, unless a comment within the three lines above the function (or the file's first
ten lines, for a file) says why with `size:`. Prints each breach with its place; exits 1 when
there is one. Functions are found by their braces (strings, characters and comments skipped),
which is what a reader sees; lambdas count as part of the function that holds them.

    scripts/sizes.py [--max-file 700] [--max-function 100] [ROOT]
"""
import argparse
import pathlib
import re
import sys

HEAD = re.compile(r"\)\s*(const)?\s*(noexcept)?\s*(override|final)?\s*(->\s*[\w:<>, *&]+)?\s*(:[^;{]*)?\{\s*$")
CONTROL = re.compile(r"^\s*(if|for|while|switch|catch|do|else|return|namespace|struct|class|enum|union|extern)\b")


def strip_code(text):
    """The text with comments and string/char literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = ")" + m.group(1) + '"'
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (min(j + 1, n) - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path):
    """(name line, first line, last line) of each top-level or member function body."""
    raw = path.read_text(errors="replace")
    code = strip_code(raw).split("\n")
    depth, stack, found = 0, [], []
    for ln, line in enumerate(code, 1):
        for col, ch in enumerate(line):
            if ch == "{":
                # A function body opens where a line (or the one before, for a wrapped
                # signature) ends a parameter list, outside control statements.
                head = line[: col + 1]
                prev = code[ln - 2] if ln >= 2 else ""
                is_fn = bool(HEAD.search(head)) and not CONTROL.match(head) and "=" not in head.split("(")[0]
                if not is_fn and head.strip() == "{" and HEAD.search(prev + "{") and not CONTROL.match(prev):
                    is_fn = True
                inside_fn = any(kind for kind, _ in stack)
                stack.append((is_fn and not inside_fn, ln))
                depth += 1
            elif ch == "}" and stack:
                kind, start = stack.pop()
                depth -= 1
                if kind:
                    found.append((start, ln))
    return raw.split("\n"), found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-file", type=int, default=700)
    ap.add_argument("--max-function", type=int, default=100)
    ap.add_argument("root", nargs="?", default=str(pathlib.Path(__file__).resolve().parent.parent / "src"))
    a = ap.parse_args()
    bad = 0
    for p in sorted(pathlib.Path(a.root).rglob("*")):
        if p.suffix not in (".cpp", ".h", ".cc", ".hpp"):
            continue
        lines, fns = functions(p)
        n = len(lines) - (1 if lines and lines[-1] == "" else 0)
        if n > a.max_file and not any("size:" in l for l in lines[:10]):
            print(f"{p}: {n} lines (over {a.max_file})")
            bad += 1
        for start, end in fns:
            length = end - start + 1
            reason = any("size:" in l for l in lines[max(0, start - 4) : start])
            if length > a.max_function and not reason:
                print(f"{p}:{start}: function of {length} lines (over {a.max_function}): {lines[start - 1].strip()[:80]}")
                bad += 1
    print(f"sizes: {bad} over the limits" if bad else "sizes: every file and function within the limits")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
