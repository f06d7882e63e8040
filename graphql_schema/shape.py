"""A document's shape, measured once per fragment: depth, aliases and expanded size; fragment cycles refused.

Strawberry's QueryDepthLimiter and MaxAliasesLimiter walk a fragment again at every spread of it. A document
whose fragments each spread two fragments of the next level (a "diamond") holds 2^n paths in n levels: 19
levels (1.6 KB) kept the event loop busy for 20 s. Here each fragment is measured once, after the fragments
it spreads (`in_dependency_order`, an explicit stack: no recursion through spreads), and a spread adds the
spread fragment's figures: expanded sizes are multiplied, never walked. The whole check costs time linear in
the document, and it runs before GraphQL's own validation rules, so a refused document reaches none of them.

The figures keep Strawberry's meaning (its messages too): depth counts nested fields, a spread adds none, an
introspection field's selection is not counted; aliases count every spread of a fragment. `fields` is the
number of fields once fragments are expanded, counted as cost.node_cost counts nodes with every list of size
one (a fragment spread twice in one selection counts once; of fragments on different types the largest),
so a document refused for it would be refused by the node count too.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graphql.error import GraphQLError
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

MAX_DEPTH = 10  # deep enough for cube > memories > edges > node > derivedFrom > node > next > ...
MAX_ALIASES = 20
# GraphQL's OverlappingFieldsCanBeMerged compares every two selections of one response key in a selection set,
# merged with the selections of the same key's other fields: quadratic. 280 copies of `me { user { userId } }`
# or 15 of `me` each selecting `user` 30 times (2,000 tokens) kept it busy for 1-3 s; no sensible document
# selects one key this often in one merged place.
MAX_REPEATS = 30
# Selections nested deeper than this (introspection's included) are refused before anything walks them, so
# no walk below recurses deeper than this.
MAX_NESTING = 64

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class FragmentCycle(Exception):
    """A fragment that spreads itself, directly or through others."""

    def __init__(self, name: str) -> None:
        super().__init__(f"fragment '{name}' spreads itself (directly or through other fragments)")
        self.name = name


def in_dependency_order(
    roots: Iterable[Key],
    dependencies: Callable[[Key], Iterable[Key]],
    measure: Callable[[Key, Mapping[Key, Value]], Value],
) -> dict[Key, Value]:
    """`measure` of every key reachable from `roots`, each called once, after the keys it depends on, whose
    values it is given (an iterative depth-first walk); FragmentCycle when a key depends on itself (a key is
    a fragment name, or a tuple whose first item is one)."""
    values: dict[Key, Value] = {}
    on_path: set[Key] = set()
    for root in roots:
        stack: list[tuple[Key, bool]] = [(root, False)]
        while stack:
            key, ready = stack.pop()
            if ready:
                on_path.discard(key)
                values[key] = measure(key, values)
                continue
            if key in values:
                continue
            if key in on_path:  # pending below on the stack: everything above it depends on it
                raise FragmentCycle(str(key[0] if isinstance(key, tuple) else key))
            on_path.add(key)
            stack.append((key, True))
            stack.extend((dependency, False) for dependency in dependencies(key) if dependency not in values)
    return values


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    """The document's fragments by name (of two with one name the first: validation refuses the document)."""
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments.setdefault(definition.name.value, definition)
    return fragments


def spreads(selection_set: SelectionSetNode) -> Iterator[tuple[FragmentSpreadNode, tuple[FieldNode, ...]]]:
    """Every fragment spread in the selection, at any nesting, with the fields it lies in (outermost first);
    iterative, and no deeper than MAX_NESTING."""
    pending: list[tuple[SelectionSetNode, tuple[FieldNode, ...]]] = [(selection_set, ())]
    while pending:
        current, fields = pending.pop()
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection, fields
            elif isinstance(selection, InlineFragmentNode):
                pending.append((selection.selection_set, fields))
            elif isinstance(selection, FieldNode) and selection.selection_set and len(fields) < MAX_NESTING:
                pending.append((selection.selection_set, (*fields, selection)))


# A merged selection: response key -> [times selected, the merged selection below those fields].
Merged = dict[str, list[Any]]


@dataclass(frozen=True)
class Figures:
    """What a selection set holds once its fragments are expanded."""

    depth: int  # nested fields below it (QueryDepthLimiter's count)
    aliases: int  # aliased fields
    fields: int  # fields (see the module docstring)
    nesting: int = 0  # nested selection sets, introspection's included
    empty: bool = False  # some selection set in it selects nothing
    # The selection merged as GraphQL merges it: each response key with how often it is selected (through the
    # fragments spread there) and the merged selections of those fields.
    keys: Merged = field(default_factory=dict)

    @property
    def most_repeated(self) -> int:
        """The most one response key is selected in one merged selection set."""
        most, pending = 0, [self.keys]
        while pending:
            for count, below in pending.pop().values():
                most = max(most, count)
                pending.append(below)
        return most


def _merge(into: Merged, source: Merged) -> None:
    """Add a merged selection into another (an explicit stack: no recursion)."""
    pending = [(into, source)]
    while pending:
        target, other = pending.pop()
        for key, (count, below) in other.items():
            entry = target.setdefault(key, [0, {}])
            entry[0] += count
            pending.append((entry[1], below))


def _is_introspection(field: FieldNode) -> bool:
    return field.name.value.startswith("__")


def _measure(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    known: Mapping[str, Figures],
    level: int = 0,
) -> Figures:
    """The figures of one selection set, from those of the fragments it spreads (`known`); recursion only
    through nested fields and inline fragments, at most MAX_NESTING deep."""
    depth = aliases = plain = nesting = 0
    empty = not selection_set.selections
    by_type: dict[str, int] = {}
    spread: set[str] = set()
    keys: Merged = {}
    for selection in selection_set.selections:
        if level > MAX_NESTING:
            return Figures(MAX_NESTING + 1, aliases, plain, MAX_NESTING + 1, empty)
        if isinstance(selection, FieldNode):
            aliases += selection.alias is not None
            plain += 1
            entry = keys.setdefault((selection.alias or selection.name).value, [0, {}])
            entry[0] += 1
            if selection.selection_set is not None:
                inner = _measure(selection.selection_set, fragments, known, level + 1)
                nesting = max(nesting, 1 + inner.nesting)
                _merge(entry[1], inner.keys)
                if not _is_introspection(selection):
                    depth = max(depth, 1 + inner.depth)
                aliases, plain, empty = aliases + inner.aliases, plain + inner.fields, empty or inner.empty
            continue
        if isinstance(selection, InlineFragmentNode):
            part = _measure(selection.selection_set, fragments, known, level + 1)
            condition = selection.type_condition
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in known:
            name = selection.name.value
            part, condition = known[name], fragments[name].type_condition
            if name in spread:  # merged with its first spread here: no more fields, but its aliases again
                aliases += part.aliases
                continue
            spread.add(name)
        else:
            continue  # a fragment the document does not define: GraphQL's validation names it
        depth, nesting = max(depth, part.depth), max(nesting, part.nesting)
        aliases, empty = aliases + part.aliases, empty or part.empty
        _merge(keys, part.keys)
        if condition is None:
            plain += part.fields
        else:
            by_type[condition.name.value] = by_type.get(condition.name.value, 0) + part.fields
    fields = plain + max(by_type.values(), default=0)
    return Figures(depth, aliases, fields, nesting, empty, keys)


@dataclass(frozen=True)
class Shape:
    """A document's figures: each operation's, by its name ("anonymous" without one)."""

    operations: dict[str, Figures]

    @classmethod
    def of(cls, document: DocumentNode) -> Shape:
        """Measure every operation (each fragment once); FragmentCycle for a fragment that spreads itself."""
        fragments = fragments_of(document)

        def dependencies(name: str) -> Iterator[str]:
            return (s.name.value for s, _ in spreads(fragments[name].selection_set) if s.name.value in fragments)

        def measure(name: str, known: Mapping[str, Figures]) -> Figures:
            return _measure(fragments[name].selection_set, fragments, known)

        known = in_dependency_order(fragments, dependencies, measure)
        operations = {
            (o.name.value if o.name else "anonymous"): _measure(o.selection_set, fragments, known)
            for o in document.definitions
            if isinstance(o, OperationDefinitionNode)
        }
        return cls(operations)

    @property
    def fields(self) -> int:
        """The most fields of any operation once fragments are expanded."""
        return max((figures.fields for figures in self.operations.values()), default=0)

    def errors(self, max_depth: int = MAX_DEPTH, max_aliases: int = MAX_ALIASES) -> list[GraphQLError]:
        """The document's refusals: an empty selection, nesting past MAX_NESTING, depth past `max_depth` (per
        operation), aliases past `max_aliases` (over all operations), as Strawberry's limiters word them; a
        response key selected more than MAX_REPEATS times in one selection set."""
        errors: list[GraphQLError] = []
        if any(figures.empty for figures in self.operations.values()):
            errors.append(GraphQLError("a selection set must select at least one field"))
        for name, figures in self.operations.items():
            if figures.depth > max_depth or figures.nesting > MAX_NESTING:
                errors.append(GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}"))
        aliases = sum(figures.aliases for figures in self.operations.values())
        if aliases > max_aliases:
            errors.append(GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}"))
        repeats = max((figures.most_repeated for figures in self.operations.values()), default=0)
        if repeats > MAX_REPEATS:
            errors.append(
                GraphQLError(
                    f"a field is selected {repeats} times in one selection set (fragments included); the limit is "
                    f"{MAX_REPEATS}: select it once"
                )
            )
        return errors
