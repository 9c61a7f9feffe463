"""The simplicity budget: no module over 400 lines, no function over 80.

Parsed with `ast`: a function's length is its source span from the `def`
line to its last line, without its docstring (documentation is never the
thing to cut). The one exception is `TransformerBody.__init__`, a
functional graph that reads best in one piece.
"""

import ast
import os

import keras_objectives

PACKAGE = os.path.dirname(keras_objectives.__file__)
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
EXCEPTIONS = {("models/transformer_body.py", "TransformerBody.__init__")}


def modules():
    for folder, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                yield os.path.relpath(path, PACKAGE), path


def _length(function):
    lines = function.end_lineno - function.lineno + 1
    first = function.body[0]
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def functions(tree):
    """`(qualified name, lines)` of every function, methods included."""

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                  ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    yield name, _length(child)
                yield from visit(child, name + ".")

    yield from visit(tree, "")


def test_no_module_over_400_lines():
    long = {}
    for relative, path in modules():
        with open(path, encoding="utf-8") as f:
            count = len(f.read().splitlines())
        if count > MAX_MODULE_LINES:
            long[relative] = count
    assert not long, f"Modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_over_80_lines():
    long = {}
    for relative, path in modules():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for name, count in functions(tree):
            if (count > MAX_FUNCTION_LINES
                    and (relative, name) not in EXCEPTIONS):
                long[f"{relative}:{name}"] = count
    assert not long, f"Functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_checker_counts_code_not_docstrings():
    body = "\n".join(f"    x = {i}" for i in range(90))
    doc = '    """Doc.\n\n    More.\n    """\n'
    tree = ast.parse(f"class A:\n  def f(self):\n{doc}{body}\n")
    assert dict(functions(tree)) == {"A.f": 91}
