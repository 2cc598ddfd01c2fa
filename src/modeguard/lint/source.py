"""A parsed source file: what every lint rule receives."""

from __future__ import annotations

import ast
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any


@dataclass
class SourceFile:
    """One Python file, read and parsed once.

    ``path`` is the path as displayed in findings (relative to where lint was
    started when possible); ``module`` is the dotted module name guessed from the
    path (``pkg/sub/mod.py`` -> ``pkg.sub.mod``), used to resolve imports between
    linted files.
    """

    path: str
    source: str
    tree: ast.Module
    module: str = ""

    @cached_property
    def lines(self) -> list[str]:
        """The source's lines (split on first use: most files never need them)."""
        return self.source.splitlines()

    def line_text(self, lineno: int) -> str:
        return self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""

    def text_of(self, node: ast.AST) -> str:
        """The source lines a node spans (whole lines: a superset of its own text)."""
        first = getattr(node, "lineno", 1)
        return "\n".join(self.lines[first - 1:getattr(node, "end_lineno", None) or first])

    # Computed once per file and shared by every rule: the tree is walked a single time.
    # Only statements, calls and attributes are recorded (``of``/``within`` find the other
    # kinds by walking).

    @cached_property
    def nodes(self) -> list[ast.AST]:
        """The recorded nodes of the tree in source order (parents before children): every
        statement, call and attribute."""
        return self._index.nodes

    @cached_property
    def calls_by_statement(self) -> dict[int, list[ast.Call]]:
        """``id(statement)`` -> the calls in that statement's own expressions (not in nested
        statements), innermost (argument) calls first: the order they run in."""
        return self._index.by_stmt

    @cached_property
    def calls_by_scope(self) -> dict[int, list[ast.Call]]:
        """``id(module or def)`` -> the calls directly in its body (nested defs excluded)."""
        return self._index.by_scope

    @cached_property
    def _index(self) -> "_Index":
        return _Index(self.tree)

    def of(self, *types: type) -> list[Any]:
        """The nodes of the given (exact) types, in source order."""
        index = self._index
        if len(types) == 1:
            return index.of(types[0])
        return sorted((n for t in types for n in index.of(t)),
                      key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))

    def within(self, stmt: ast.AST, kind: type) -> list[Any]:
        """The nodes of type ``kind`` in a statement's subtree (the statement included), in
        source order, without walking it again: like ``[n for n in ast.walk(stmt) if
        isinstance(n, kind)]`` for an exact node type."""
        index = self._index
        first = index.position.get(id(stmt))
        if first is None or kind not in _RECORDED:  # not a statement of this tree, or a kind
            return _walk_sorted(stmt, kind)                # not recorded
        positions = index.positions.get(kind, ())
        lo = bisect_left(positions, first)
        hi = bisect_left(positions, index.end[first], lo)
        nodes = index.nodes
        return [nodes[i] for i in positions[lo:hi]]

    @cached_property
    def imports(self) -> Any:
        """The file's :class:`~modeguard.lint.astutil.ImportMap`."""
        from modeguard.lint.astutil import ImportMap
        return ImportMap.from_tree(self.of(ast.Import) + self.of(ast.ImportFrom), self.module)


# singletons (Load, Add, Eq...) and plain values (names, flags, import aliases): never nodes
# the walk needs to enter
_SKIP_FIELDS = frozenset({"ctx", "op", "ops", "attr", "id", "name", "names", "asname", "module",
                          "level", "is_async", "type_comment", "conversion", "kind", "simple",
                          "type_ignores"})
# childless and a third of all nodes: not even visited
_LEAVES = frozenset({ast.Name, ast.Constant, ast.alias})
# the expression nodes the rules look up (statements are all recorded); the walk goes through
# the others (a call can hide in any expression) without recording them, and ``of``/``within``
# find those by walking the tree
_RECORDED_EXPRESSIONS = frozenset({ast.Call, ast.Attribute})


def _node_types() -> list[type]:
    out, todo = [], [ast.AST]
    while todo:
        kind = todo.pop()
        out.append(kind)
        todo.extend(kind.__subclasses__())
    return out


# what the walk does with a child of each type: 0 skip it, 1 visit it, 2 visit it as a statement
_CATEGORY: dict[type, int] = {
    kind: 0 if kind in _LEAVES or issubclass(kind, (ast.expr_context, ast.operator, ast.cmpop,
                                                    ast.boolop, ast.unaryop))
    else 2 if issubclass(kind, ast.stmt) else 1
    for kind in _node_types()}
_RECORDED = frozenset(k for k, c in _CATEGORY.items() if c == 2 or k in _RECORDED_EXPRESSIONS) \
    | {ast.Module}
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_PLANS: dict[type, tuple[tuple[str, ...], bool, bool, bool]] = {}


def _plan(kind: type) -> tuple[tuple[str, ...], bool, bool, bool]:
    """(fields that can hold nodes, last first; is a statement; is a definition; recorded)."""
    fields = tuple(reversed([f for f in kind._fields  # type: ignore[attr-defined]
                             if f not in _SKIP_FIELDS]))
    plan = _PLANS[kind] = (fields, issubclass(kind, ast.stmt), issubclass(kind, _DEFS),
                           kind in _RECORDED)
    return plan


def _walk_sorted(root: ast.AST, kind: type) -> list[Any]:
    found = [n for n in ast.walk(root) if type(n) is kind]
    if len(found) > 1:  # ast.walk is breadth-first: put them in source order
        found.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    return found


class _Index:
    """One iterative pass over a tree (deep nesting cannot overflow the stack).

    ``nodes``: the statements, calls and attributes in source order; ``positions[type]`` the
    indices of that type's nodes; ``position[id(stmt)]``/``end[i]``: each statement's subtree
    is ``nodes[i:end[i]]``; calls grouped by statement and by scope.
    """

    __slots__ = ("nodes", "positions", "position", "end", "by_stmt", "by_scope", "_of")

    def __init__(self, tree: ast.AST) -> None:
        nodes: list[ast.AST] = []
        positions: defaultdict[type, list[int]] = defaultdict(list)
        position: dict[int, int] = {}
        end: dict[int, int] = {}
        by_stmt: defaultdict[int, list[ast.Call]] = defaultdict(list)
        by_scope: defaultdict[int, list[ast.Call]] = defaultdict(list)
        Call, Attribute = ast.Call, ast.Attribute
        plans, category = _PLANS, _CATEGORY.get
        # entries: (node, id of its statement, id of its scope); (None, i, 0) marks the end
        # of statement i's subtree
        stack: list[tuple[Any, int, int]] = [(tree, 0, id(tree))]
        pop, push, add = stack.pop, stack.append, nodes.append
        while stack:
            node, owner, scope = pop()
            if node is None:
                end[owner] = len(nodes)
                continue
            kind = type(node)
            if kind is Attribute:  # a chain a.b.c: recorded link by link, without the stack
                while True:
                    positions[kind].append(len(nodes))
                    add(node)
                    node = node.value
                    kind = type(node)
                    if kind is not Attribute:
                        break
                if category(kind, 0):
                    push((node, owner, scope))
                continue
            fields, is_stmt, is_def, recorded = plans.get(kind) or _plan(kind)
            if recorded:
                i = len(nodes)
                add(node)
                positions[kind].append(i)
                if is_stmt:
                    owner = id(node)
                    position[owner] = i
                    push((None, i, 0))
                elif kind is Call:
                    by_stmt[owner].append(node)
                    by_scope[scope].append(node)
            # a definition's body statements are its own scope; decorators and defaults are not
            inner = id(node) if is_def else scope
            # children pushed last field first, last item first: popped in source order
            for name in fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    for item in reversed(value):
                        c = category(type(item), 0)
                        if c:
                            push((item, owner, inner if c == 2 else scope))
                elif category(type(value), 0):
                    push((value, owner, scope))
        position[id(tree)] = 0
        end[0] = len(nodes)
        for calls in by_stmt.values():
            if len(calls) > 1:
                # a call nested in the callee of another (net.eval()(x)) starts where the
                # outer one does: of two calls at one position the inner, shorter one runs first
                calls.sort(key=lambda c: (c.lineno, c.col_offset, -c.end_lineno,  # type: ignore
                                          -c.end_col_offset), reverse=True)
        self.nodes, self.positions, self.position, self.end = nodes, positions, position, end
        self.by_stmt, self.by_scope = by_stmt, by_scope
        self._of: dict[type, list[Any]] = {}

    def of(self, kind: type) -> list[Any]:
        found = self._of.get(kind)
        if found is None and kind not in _RECORDED:
            found = self._of[kind] = _walk_sorted(self.nodes[0], kind)
        elif found is None:
            nodes = self.nodes
            found = self._of[kind] = [nodes[i] for i in self.positions.get(kind, ())]
        return found


# Rule signatures (implemented in modeguard.lint.rules):
#   per-file rules:     def check(src: SourceFile) -> Iterable[Finding]
#   project-wide rules: def check_project(files: Sequence[SourceFile]) -> Iterable[Finding]
# Findings carry path/line/col of the primary site; the engine applies noqa,
# select/ignore and per-file-ignores afterwards, so rules report everything.
