"""Soufflé's components (``.comp``, ``.init``, ``.override``), expanded into a plain program.

A component is a template of declarations, types, rules, facts and I/O directives;
``.init inst = Comp<T…>`` copies it with every relation and type it declares renamed
``inst.Name`` (nested instances give ``outer.inner.Name``). The expansion follows Soufflé's
(``ComponentInstantiation``; facts from its documentation and tests, not its code):

- an instance holds, in order, its nested instances, then for each base component (``: Base``)
  the base's instances and content, then its own types, relations, directives and rules;
- type parameters (``Comp<T>``) are replaced by the instance's arguments in the types of
  columns, in type definitions and in the names of components instantiated or inherited;
- a rule whose head relation the component does not declare (an "orphan") is renamed by the
  enclosing instances that declare it, or left to the program's own relation;
- ``.override R`` leaves out the rules for ``R`` inherited from bases, which must declare ``R``
  ``overridable``.

It runs before the static checks, so that these see a program without components: their errors
and the explanations of ``--explain`` point at the rule as written inside the component. A
rule file is hostile input: the expansion is bounded (depth, instances, rules, work) and every
error is one ``file:line:col: message`` line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from .limits import DEFAULT_LIMITS, Limits, limit_hint
from .syntax import (
    Aggregate,
    Atom,
    BinOp,
    Call,
    Column,
    Comparison,
    Component,
    ComponentInit,
    ComponentType,
    Constraint,
    Declaration,
    Expr,
    FunctorDecl,
    IODirective,
    Literal,
    Location,
    Module,
    Negation,
    PlumbingMark,
    Rule,
    TypeDecl,
    UnOp,
)

#: How deep instances may nest (nested ``.init`` and inheritance), as Soufflé's limit.
MAX_INSTANTIATION_DEPTH = 100
#: How many instances a program may make in all (nested ones included).
MAX_INSTANCES = 10_000
#: How many items (declarations, rules, directives) the expansion may copy or rename in all.
MAX_WORK = 1_000_000

Binding = dict[str, str]  # a component's type parameter -> the name it stands for
PLACEHOLDER = "<type parameter>"


class _Stop(Exception):
    """Ends the expansion with one error line."""


def _extend(binding: Binding, formal: list[str], actual: list[str]) -> Binding:
    """The binding inside a component instantiated with ``actual`` (already checked to be as
    many as ``formal``), its arguments read through the enclosing ``binding``."""
    if len(formal) != len(actual):
        return binding
    return {f: binding.get(a, a) for f, a in zip(formal, actual, strict=True)}


def _by_name(components: Iterable[Component], name: str) -> Component | None:
    return next((c for c in components if c.type.name == name), None)


def _params(n: int) -> str:
    return f"{n} type parameter" + ("" if n == 1 else "s")


class Scopes:
    """Where each component is defined, and the lookup of a component's name from a scope:
    the components defined in the scope, in its bases, in the enclosing scopes, at the top."""

    def __init__(self, module: Module) -> None:
        self.top = module.components
        self.enclosing: dict[int, Component | None] = {id(c): None for c in self.top}
        stack = list(self.top)
        while stack:
            comp = stack.pop()
            for nested in comp.body.components:
                self.enclosing[id(nested)] = comp
                stack.append(nested)

    def outer(self, comp: Component) -> Component | None:
        return self.enclosing.get(id(comp))

    def lookup(self, scope: Component | None, name: str, binding: Binding,
               through_bases: bool = True) -> Component | None:
        bound = binding.get(name, name)
        seen: set[int] = set()
        while scope is not None:
            found = self._in_scope(scope, bound, binding, seen) if through_bases else \
                _by_name(scope.body.components, bound)
            if found is not None:
                return found
            scope = self.outer(scope)
        return _by_name(self.top, bound)

    def _in_scope(self, scope: Component, bound: str, binding: Binding,
                  seen: set[int]) -> Component | None:
        """A component defined in ``scope`` or in one of its bases (transitively)."""
        stack = [scope]
        while stack:
            s = stack.pop()
            if id(s) in seen:
                continue
            seen.add(id(s))
            found = _by_name(s.body.components, bound)
            if found is not None:
                return found
            for base in s.bases:
                b = self.lookup(self.outer(s), base.name, binding, through_bases=False)
                if b is not None:
                    stack.append(b)
        return None


# ---- the static checks ----------------------------------------------------------------------


def check_components(module: Module, scopes: Scopes) -> list[str]:
    """Unknown components, wrong numbers of type parameters, inheritance cycles, overrides of
    relations that are not overridable, name clashes: one line each."""
    errors: list[str] = [f"{o.loc}: '.override {o.relation}' outside a component"
                         for o in module.overrides]
    errors.extend(_name_clashes(module))
    stack: list[tuple[Component, Component | None, Binding]] = \
        [(c, None, {}) for c in reversed(module.components)]
    while stack:
        comp, enclosing, binding = stack.pop()
        errors.extend(_check_component(comp, enclosing, binding, scopes))
        active = _extend(binding, comp.type.params, [PLACEHOLDER] * len(comp.type.params))
        stack.extend((n, comp, active) for n in reversed(comp.body.components))
        errors.extend(_name_clashes(comp.body))
        for init in comp.body.inits:
            errors.extend(_check_reference(scopes, comp, init.type, active))
    for init in module.inits:
        errors.extend(_check_reference(scopes, None, init.type, {}))
    return errors


def _check_reference(scopes: Scopes, scope: Component | None, ctype: ComponentType,
                     binding: Binding) -> list[str]:
    if ctype.name in binding:
        return []  # a type parameter: known once instantiated
    comp = scopes.lookup(scope, ctype.name, binding)
    if comp is None:
        return [f"{ctype.loc}: unknown component '{ctype.name}'"]
    want, got = len(comp.type.params), len(ctype.params)
    if want != got:
        return [f"{ctype.loc}: component '{ctype.name}' takes {_params(want)}, not {got}"]
    return []


def _check_component(comp: Component, enclosing: Component | None, binding: Binding,
                     scopes: Scopes) -> list[str]:
    name = comp.type.name
    active = _extend(binding, comp.type.params, [PLACEHOLDER] * len(comp.type.params))
    errors: list[str] = []
    for base in comp.bases:
        errors.extend(_check_reference(scopes, enclosing, base, active))
    parents: dict[int, Component] = {}
    stack = [comp]
    while stack:
        for base in stack.pop().bases:
            parent = scopes.lookup(enclosing, base.name, binding)
            if parent is not None and id(parent) not in parents:
                parents[id(parent)] = parent
                stack.append(parent)
    if id(comp) in parents:
        errors.append(f"{comp.loc}: component '{name}' inherits from itself")
    own = {d.name for d in comp.body.declarations}
    for o in comp.body.overrides:
        if o.relation in own:
            errors.append(f"{o.loc}: component '{name}' overrides its own relation "
                          f"'{o.relation}' (.override replaces inherited rules only)")
        for parent in parents.values():
            decl = next((d for d in parent.body.declarations if d.name == o.relation), None)
            if decl is not None and not decl.overridable:
                errors.append(f"{o.loc}: component '{name}' overrides relation "
                              f"'{o.relation}' of '{parent.type.name}', which is not "
                              f"declared overridable (at {decl.loc})")
    return errors


def _name_clashes(module: Module) -> list[str]:
    """Components and instances named as a type, a relation or one another, in one scope."""
    names: dict[str, tuple[str, Location]] = {}
    for t in module.types:
        names.setdefault(t.name, ("type", t.loc))
    for d in module.declarations:
        names.setdefault(d.name, ("relation", d.loc))
    errors: list[str] = []
    items = [("component", c.type.name, c.loc) for c in module.components] + \
        [("instance", i.instance, i.loc) for i in module.inits]
    for what, name, loc in items:
        if name in names:
            other, where = names[name]
            errors.append(f"{loc}: name clash: {what} '{name}' has the name of the {other} "
                          f"at {where}")
        else:
            names[name] = (what, loc)
    return errors


# ---- the expansion --------------------------------------------------------------------------


@dataclass
class _Rule:
    """A rule of an instance: the rule as written, and each relation name it uses (as
    written) with the name it has now (renamed by each enclosing instance in turn)."""

    rule: Rule
    names: dict[str, str]

    def head(self) -> str:
        return self.names[self.rule.head.relation]

    def rename(self, mapping: dict[str, str]) -> None:
        for written, now in self.names.items():
            self.names[written] = mapping.get(now, now)


@dataclass
class _Content:
    """What an instance adds to the program (its items are its own copies)."""

    types: list[TypeDecl] = field(default_factory=list)
    declarations: list[Declaration] = field(default_factory=list)
    io: list[IODirective] = field(default_factory=list)
    plumbing: list[PlumbingMark] = field(default_factory=list)
    rules: list[_Rule] = field(default_factory=list)

    def add(self, other: _Content) -> None:
        self.types.extend(other.types)
        self.declarations.extend(other.declarations)
        self.io.extend(other.io)
        self.plumbing.extend(other.plumbing)
        self.rules.extend(other.rules)

    def size(self) -> int:
        return len(self.types) + len(self.declarations) + len(self.io) + \
            len(self.plumbing) + len(self.rules)


class _Expander:
    def __init__(self, scopes: Scopes, max_rules: int) -> None:
        self.scopes = scopes
        self.max_rules = max_rules  # rules the instances may add
        self.rules = 0
        self.instances = 0
        self.work = 0
        self.active: list[tuple[int, tuple[tuple[str, str], ...]]] = []  # being instantiated
        self.path: list[str] = []  # their instance names
        self.names: dict[int, list[str]] = {}  # id(rule) -> the relation names it uses

    def charge(self, n: int, loc: Location) -> None:
        self.work += n
        if self.work > MAX_WORK:
            raise _Stop(f"{loc}: the components expand to more than {MAX_WORK} items "
                        "(declarations, rules, directives copied or renamed)")

    def resolve(self, scope: Component | None, ctype: ComponentType,
                binding: Binding) -> tuple[Component, Binding]:
        comp = self.scopes.lookup(scope, ctype.name, binding)
        if comp is None:
            raise _Stop(f"{ctype.loc}: unknown component '{binding.get(ctype.name, ctype.name)}'")
        want, got = len(comp.type.params), len(ctype.params)
        if want != got:
            raise _Stop(f"{ctype.loc}: component '{comp.type.name}' takes {_params(want)}, "
                        f"not {got}")
        return comp, _extend(binding, comp.type.params, ctype.params)

    def instance(self, init: ComponentInit, scope: Component | None, orphans: list[_Rule],
                 overridden: frozenset[str], binding: Binding, depth: int) -> _Content:
        """The content of ``.init`` in ``scope``, its names prefixed with the instance's."""
        if depth > MAX_INSTANTIATION_DEPTH:
            raise _Stop(f"{init.loc}: components instantiated more than "
                        f"{MAX_INSTANTIATION_DEPTH} deep ({'.'.join(self.path[:3])}…)")
        self.instances += 1
        if self.instances > MAX_INSTANCES:
            raise _Stop(f"{init.loc}: the program makes more than {MAX_INSTANCES} instances of "
                        "components")
        comp, active = self.resolve(scope, init.type, binding)
        key = (id(comp), tuple(sorted(active.items())))
        self.path.append(init.instance)
        if key in self.active:
            cycle = ".".join(self.path[self.active.index(key):])
            raise _Stop(f"{init.loc}: instantiation cycle: component '{comp.type.name}' "
                        f"instantiates itself ({cycle})")
        self.active.append(key)
        res = _Content()
        for nested in comp.body.inits:
            res.add(self.instance(nested, comp, orphans, overridden, active, depth + 1))
        self.collect(comp, active, orphans, overridden, res, (key,), depth)
        self.prefix(res, orphans, init.instance, init.loc)
        self.active.pop()
        self.path.pop()
        return res

    def collect(self, comp: Component, binding: Binding, orphans: list[_Rule],
                overridden: frozenset[str], res: _Content,
                chain: tuple[tuple[int, tuple[tuple[str, str], ...]], ...], depth: int) -> None:
        """The content of ``comp`` and its bases (first), before renaming."""
        inherited = overridden | {o.relation for o in comp.body.overrides}
        for base in comp.bases:
            parent, active = self.resolve(self.scopes.outer(comp), base, binding)
            key = (id(parent), tuple(sorted(active.items())))
            if key in chain or len(chain) > MAX_INSTANTIATION_DEPTH:
                raise _Stop(f"{base.loc}: component '{comp.type.name}' inherits from itself")
            for nested in parent.body.inits:
                res.add(self.instance(nested, parent, orphans, frozenset(), active, depth + 1))
            self.collect(parent, active, orphans, inherited, res, (*chain, key), depth)
        self.copy_local(comp.body, binding, res)
        declared = {d.name for d in res.declarations}
        self.charge(len(declared) + len(comp.body.rules) + len(orphans), comp.loc)
        for rule in comp.body.rules:
            if rule.head.relation.split(".")[0] in overridden:
                continue
            item = _Rule(rule, {n: n for n in self.rule_names(rule)})
            self.rules += 1
            if self.rules > self.max_rules:
                raise _Stop(f"{rule.loc}: the program has more than "
                            f"{self.max_rules} rules once components are instantiated "
                            f"({limit_hint('max_rules')})")
            (res.rules if item.head() in declared else orphans).append(item)
        still = [o for o in orphans if o.head() not in declared]
        res.rules.extend(o for o in orphans if o.head() in declared)
        orphans[:] = still

    def copy_local(self, body: Module, binding: Binding, res: _Content) -> None:
        """Copies of a component's own types, relations and directives, its type parameters
        replaced."""
        self.charge(len(body.types) + len(body.declarations) + len(body.io) +
                    len(body.plumbing), body.declarations[0].loc if body.declarations else
                    Location("<components>", 1, 1))
        for t in body.types:
            res.types.append(TypeDecl(binding.get(t.name, t.name),
                                      [binding.get(b, b) for b in t.bases], t.loc))
        for d in body.declarations:
            cols = [Column(c.name, binding.get(c.type, c.type), c.loc) for c in d.columns]
            res.declarations.append(Declaration(d.name, cols, d.loc, d.overridable))
        res.io.extend(IODirective(io.kind, io.relation, dict(io.options), io.loc)
                      for io in body.io)
        res.plumbing.extend(PlumbingMark(m.relation, m.loc) for m in body.plumbing)

    def prefix(self, res: _Content, orphans: list[_Rule], instance: str,
               loc: Location) -> None:
        """Rename what the instance declares ``instance.Name``, and every use of it."""
        self.charge(res.size() + len(orphans), loc)
        types: dict[str, str] = {}
        for t in res.types:
            types[t.name] = t.name = f"{instance}.{t.name}"
        relations: dict[str, str] = {}
        for d in res.declarations:
            relations[d.name] = d.name = f"{instance}.{d.name}"
            for c in d.columns:
                c.type = types.get(c.type, c.type)
        for t in res.types:
            t.bases = [types.get(b, b) for b in t.bases]
        for item in (*res.rules, *orphans):
            item.rename(relations)
        for io in res.io:
            io.relation = relations.get(io.relation, io.relation)
        for m in res.plumbing:
            m.relation = relations.get(m.relation, m.relation)

    def rule_names(self, rule: Rule) -> list[str]:
        names = self.names.get(id(rule))
        if names is None:
            names = self.names[id(rule)] = list(dict.fromkeys(_relations_of(rule)))
        return names


def _relations_of(rule: Rule) -> list[str]:
    out = [rule.head.relation]
    stack: list[Literal | Expr] = [*rule.head.args, *rule.body]
    while stack:
        node = stack.pop()
        if isinstance(node, Atom):
            out.append(node.relation)
            stack.extend(node.args)
        elif isinstance(node, Negation):
            stack.append(node.atom)
        elif isinstance(node, Aggregate):
            stack.extend(node.body)
            if node.target is not None:
                stack.append(node.target)
        else:
            stack.extend(_children(node))
    return out


def _children(node: Literal | Expr) -> list[Literal | Expr]:
    if isinstance(node, Comparison | BinOp):
        return [node.left, node.right]
    if isinstance(node, UnOp):
        return [node.arg]
    if isinstance(node, Call | Constraint):
        return list(node.args)
    return []


# ---- renaming a rule ------------------------------------------------------------------------


def _rename_atom(atom: Atom, names: dict[str, str]) -> Atom:
    return Atom(names.get(atom.relation, atom.relation),
                tuple(_rename_expr(a, names) for a in atom.args), atom.loc)


def _rename_expr(e: Expr, names: dict[str, str]) -> Expr:
    if isinstance(e, Aggregate):
        target = None if e.target is None else _rename_expr(e.target, names)
        return replace(e, target=target, body=tuple(_rename_lit(x, names) for x in e.body))
    if isinstance(e, BinOp):
        return replace(e, left=_rename_expr(e.left, names), right=_rename_expr(e.right, names))
    if isinstance(e, UnOp):
        return replace(e, arg=_rename_expr(e.arg, names))
    if isinstance(e, Call):
        return replace(e, args=tuple(_rename_expr(a, names) for a in e.args))
    return e


def _rename_lit(lit: Literal, names: dict[str, str]) -> Literal:
    if isinstance(lit, Atom):
        return _rename_atom(lit, names)
    if isinstance(lit, Negation):
        return replace(lit, atom=_rename_atom(lit.atom, names))
    if isinstance(lit, Comparison):
        return replace(lit, left=_rename_expr(lit.left, names),
                       right=_rename_expr(lit.right, names))
    if isinstance(lit, Constraint):
        return replace(lit, args=tuple(_rename_expr(a, names) for a in lit.args))
    return lit


def _materialize(item: _Rule) -> Rule:
    names = {w: n for w, n in item.names.items() if w != n}
    if not names:
        return item.rule
    r = item.rule
    return replace(r, head=_rename_atom(r.head, names),
                   body=tuple(_rename_lit(x, names) for x in r.body))


# ---- the entry point ------------------------------------------------------------------------


def expand_components(module: Module,
                      limits: Limits = DEFAULT_LIMITS) -> tuple[Module, list[str]]:
    """``module`` without components: every ``.init`` replaced by the instance's
    declarations, types, rules and directives. Returns the new module and the errors (the
    module is then without the instances)."""
    if not (module.components or module.inits or module.overrides):
        return module, []
    scopes = Scopes(module)
    errors = check_components(module, scopes)
    errors.extend(f"{f.loc}: '.functor' inside a component is not supported"
                  for f in _nested_functors(module))
    out = Module(list(module.declarations), list(module.functors), list(module.types),
                 list(module.io), list(module.rules), list(module.plumbing))
    if errors:
        return _without_instances(out, module.inits), errors
    expander = _Expander(scopes, limits.max_rules - len(module.rules))
    try:
        for init in module.inits:
            orphans: list[_Rule] = []
            content = expander.instance(init, None, orphans, frozenset(), {}, 1)
            out.types.extend(content.types)
            out.declarations.extend(content.declarations)
            out.rules.extend(_materialize(r) for r in (*content.rules, *orphans))
            out.io.extend(content.io)
            out.plumbing.extend(content.plumbing)
    except _Stop as e:
        base = Module(list(module.declarations), list(module.functors), list(module.types),
                      list(module.io), list(module.rules), list(module.plumbing))
        return _without_instances(base, module.inits), [str(e)]
    return out, []


def _without_instances(module: Module, inits: list[ComponentInit]) -> Module:
    """The program's own items that do not use an instance (after an error in the
    components: their errors would only repeat it)."""
    prefixes = tuple(f"{i.instance}." for i in inits)

    def mine(name: str) -> bool:
        return not name.startswith(prefixes)

    module.rules = [r for r in module.rules if all(mine(n) for n in _relations_of(r))]
    module.io = [d for d in module.io if mine(d.relation)]
    module.plumbing = [m for m in module.plumbing if mine(m.relation)]
    return module


def _nested_functors(module: Module) -> list[FunctorDecl]:
    out: list[FunctorDecl] = []
    stack = list(module.components)
    while stack:
        comp = stack.pop()
        out.extend(comp.body.functors)
        stack.extend(comp.body.components)
    return out
