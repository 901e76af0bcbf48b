"""The public API: inspect disk images (or a fact snapshot) and get inspection dicts.

>>> import guestinspect
>>> for os in guestinspect.inspect(["disk.img"]):
...     print(os["root"], os.get("distro"), os.get("product_name"))

:class:`Inspector` keeps the appliance open between calls (inspect, explain, write facts).
"""

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from guestinspect.collectors.backends.choose import (
    check_backend,
    default_backend,
    open_collector,
    prestart,
)
from guestinspect.collectors.base import Collector, CollectorStats, FactSet
from guestinspect.collectors.deadline import DEFAULT_TIMEOUT, Deadline
from guestinspect.collectors.keys import KeySpec
from guestinspect.collectors.uri import RemoteDisk, parse_disk, with_password
from guestinspect.datalog import Database, DatalogError, Limits, Program
from guestinspect.errors import FactsError, GuestinspectError, ImageError, RuleError, UsageError
from guestinspect.inspection.conflicts import conflicts
from guestinspect.inspection.driver import load_program, run_collector, run_snapshot
from guestinspect.inspection.results import Inspection, build_inspections, without_extras
from guestinspect.reporting.explain import explain_field

if TYPE_CHECKING:
    from guestinspect.collectors.image import ImageCollector

PathLike = str | Path
#: A disk: a local path, or (as a str) a URI such as ``nbd://host:10809`` (docs/cli.md)
DiskLike = str | Path | RemoteDisk


def program(rules: Iterable[PathLike] | None = None, limits: Limits | None = None) -> Program:
    """The shipped rules plus the user's rule directories or files, statically checked
    (``limits``: the engine's limits, default ``Limits()``)."""
    user = [Path(r) for r in rules or ()]
    for path in user:
        try:
            path.stat()  # no such file, a symlink loop, permission denied…
        except OSError as e:
            raise UsageError(f"--rules {path}: {e.strerror}") from e
    try:
        return load_program(user, limits)
    except DatalogError as e:
        raise RuleError(str(e), e.errors) from e


class _NoPackages:
    """A collector that leaves package databases alone (``applications=False``)."""

    def __init__(self, inner: Collector) -> None:
        self.inner = inner

    def initial_facts(self) -> FactSet:
        return self.inner.initial_facts()

    def answer(self, wants: FactSet) -> FactSet:
        return self.inner.answer({k: v for k, v in wants.items() if k != "WantPackages"})

    def stats(self) -> CollectorStats:
        return self.inner.stats()

    def close(self) -> None:
        self.inner.close()


class Inspector:
    """An inspection session over disk images (read-only) or a fact snapshot.

    Use as a context manager; the appliance is launched on first use and shut down on exit::

        with Inspector(["disk.img"]) as insp:
            oses = insp.inspect()
            print(insp.explain("distro"))
            insp.write_facts("facts/mine")

    A disk given as a str may be a URI (``nbd://HOST:PORT``, ``ssh://USER@HOST/PATH``,
    ``https://…``; docs/cli.md, "Remote disks"), ``password`` the secret of those that take
    one (http, https, ftp, ftps, iscsi, rbd).
    """

    #: Whether the direct backend's child is started by the constructor (backends/choose.py)
    _prestart = True

    def __init__(
        self,
        disks: Sequence[DiskLike] = (),
        *,
        format: str | None = None,
        password: str | None = None,
        keys: Sequence[str] | KeySpec = (),
        keys_from_stdin: bool = False,
        stdin: TextIO | None = None,
        applications: bool = True,
        rules: Iterable[PathLike] | None = None,
        facts_dir: PathLike | None = None,
        progress: bool = False,
        timeout: float | None = DEFAULT_TIMEOUT,
        limits: Limits | None = None,
        stall_timeout: float | None = None,
        extras: bool = True,
        backend: str | None = None,
    ) -> None:
        if facts_dir is not None and disks:
            raise UsageError("give either disk images or a fact snapshot, not both")
        if facts_dir is None and not disks:
            raise UsageError("no disk image given")
        #: Local paths, and remote disks for the URIs (their ``secret``: ``password``)
        self.disks = with_password([parse_disk(d) for d in disks], password)
        for disk in self.disks:  # before the rules are loaded: fail fast on a typo
            if isinstance(disk, Path) and not disk.exists() and not disk.is_symlink():
                raise ImageError(f"{disk}: no such file")
        self.format = format
        self.keys = (
            keys if isinstance(keys, KeySpec) else KeySpec.parse(keys, keys_from_stdin, stdin)
        )
        self.applications = applications
        #: Whether the dicts hold the fields beyond virt-inspector (docs/api.md, "Extra fields")
        self.extras = extras
        self.facts_dir = Path(facts_dir) if facts_dir is not None else None
        self.progress = progress
        if timeout is not None and not timeout > 0:
            raise UsageError(f"--timeout {timeout}: must be a positive number of seconds")
        #: Seconds the inspection of the images may take, appliance launch included (None:
        #: no limit); past it the inspection reports what it read, with a warning.
        self.timeout = timeout
        #: Seconds of silence from the appliance's console before its launch is retried
        #: under TCG (None: $GUESTINSPECT_STALL_TIMEOUT or 20 s; 0: never; docs/cli.md)
        self.stall_timeout = stall_timeout
        #: Who reads the images: ``auto`` (the direct backend, the appliance for what it
        #: cannot read), ``direct`` (never a VM) or ``appliance``; None: $GUESTINSPECT_BACKEND
        #: or ``auto`` (docs/api.md)
        self.backend = check_backend(backend) if backend is not None else default_backend()
        self._collector: Collector | None = None
        self._db: Database | None = None
        # the direct backend's child starts while the rules load (none for a snapshot)
        self._child = (prestart(self.backend, self.disks)
                       if facts_dir is None and self._prestart else None)
        try:
            #: The rules engine's limits (tuples, expanded rules, seconds per evaluation)
            self.program = program(rules, limits)
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_facts(
        cls,
        directory: PathLike,
        *,
        applications: bool = True,
        rules: Iterable[PathLike] | None = None,
        extras: bool = True,
    ) -> "Inspector":
        """A session over a recorded fact snapshot (``facts/<guest>/``): no image, no VM."""
        return cls(facts_dir=directory, applications=applications, rules=rules, extras=extras)

    def __enter__(self) -> "Inspector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Shut the appliance down (if one was launched)."""
        if self._child is not None:  # (not given to a collector)
            self._child.close()
            self._child = None
        if self._collector is not None:
            self._collector.close()
            self._collector = None

    # ---- evaluation ----------------------------------------------------------------------

    def _open_collector(self, deadline: Deadline) -> Collector:
        child, self._child = self._child, None
        collector = open_collector(
            self.backend, self.disks, format=self.format, keys=self.keys,
            progress=self.progress, deadline=deadline, stall_timeout=self.stall_timeout,
            child=child,
        )
        return collector if self.applications else _NoPackages(collector)

    def database(self) -> Database:
        """The evaluated database (computed once per session)."""
        if self._db is not None:
            return self._db
        if self.facts_dir is not None:
            self._db = self._run_snapshot(self.facts_dir)
            return self._db
        try:
            deadline = Deadline(self.timeout)
            self._collector = self._open_collector(deadline)
            self._db = run_collector(self.program, self._collector, deadline)
        except GuestinspectError:
            raise
        except DatalogError as e:
            raise RuleError(str(e), e.errors) from e
        except RuntimeError as e:  # libguestfs reports its errors as RuntimeError
            raise ImageError(_one_line(str(e))) from e
        return self._db

    def _run_snapshot(self, directory: Path) -> Database:
        if not directory.is_dir():
            raise FactsError(f"{directory}: not a fact snapshot directory")
        if not any(directory.glob("*.facts")):
            raise FactsError(f"{directory}: no .facts files in it")
        try:
            return run_snapshot(self.program, directory)
        except DatalogError as e:
            raise FactsError(f"{directory}: {e}") from e
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise FactsError(f"{directory}: {_one_line(str(e))}") from e

    # ---- results -------------------------------------------------------------------------

    def inspect(self) -> list[Inspection]:
        """One inspection dict per operating system found (docs/api.md)."""
        inspections = build_inspections(self.database())
        if not self.extras:
            inspections = [without_extras(os) for os in inspections]
        if not self.applications:
            for os in inspections:
                os.pop("applications", None)
        return inspections

    def explain(self, field: str, depth: int | None = None, full: bool = False) -> str:
        """Why each root has the value it has for ``field``, as text: the conclusion, its
        rule and the base facts it rests on (or, with no value, the rule that came closest
        and what it lacked). ``depth``: the derivation tree, helper relations folded, down
        to ``depth`` levels; ``full``: the whole tree, every step."""
        return explain_field(self.database(), field, depth=depth, full=full)

    def write_facts(self, directory: PathLike) -> None:
        """Record every base fact gathered, as a snapshot :meth:`from_facts` can read: one
        ``<Relation>.facts`` file per input relation that holds facts (an empty one has no
        file, and loses an old one)."""
        db = self.database()
        try:
            db.write_facts_dir(directory, skip_empty=True)
        except OSError as e:
            raise FactsError(f"{directory}: cannot write the facts: {e.strerror}") from e

    def warnings(self) -> list[str]:
        """What went wrong without stopping inspection (collector warnings, rule warnings)."""
        db = self.database()
        out: list[str] = []
        if self._collector is not None:
            out.extend(self._collector.stats().warnings)
        out.extend(f"{s}: {m}" for s, m in sorted(db.tuples("Warning")))
        out.extend(c.message() for c in conflicts(db))  # a single-valued field's 2 values
        out.extend(db.failures.messages())  # functors that failed on a guest's value
        return out

    def image_collector(self) -> "ImageCollector":
        """The collector reading the images, its appliance running, once the database is
        evaluated (``guestinspect mount`` mounts the guest with it); UsageError for a
        snapshot."""
        from guestinspect.collectors.image import ImageCollector

        self.database()
        collector = self._collector
        if isinstance(collector, _NoPackages):
            collector = collector.inner
        if not isinstance(collector, ImageCollector):
            if collector is not None:
                raise UsageError("this needs the appliance (backend 'appliance'), not "
                                 f"backend {self.backend!r}")
            raise UsageError("this needs disk images, not a fact snapshot")
        return collector

    def stats(self) -> CollectorStats | None:
        """How much work the collector did (None for a snapshot)."""
        return self._collector.stats() if self._collector is not None else None


def _one_line(message: str) -> str:
    lines = [line for line in message.splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


def inspect(
    disks: Sequence[DiskLike] = (),
    *,
    format: str | None = None,
    password: str | None = None,
    keys: Sequence[str] | KeySpec = (),
    applications: bool = True,
    rules: Iterable[PathLike] | None = None,
    facts_dir: PathLike | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    limits: Limits | None = None,
    extras: bool = True,
    backend: str | None = None,
) -> list[Inspection]:
    """Inspect disk images (or, with ``facts_dir``, a fact snapshot): one dict per OS.

    ``timeout``: seconds the inspection of the images may take (None: no limit); past it,
    what was read is reported, with a warning (:meth:`Inspector.warnings`). ``limits``: the
    rules engine's (``guestinspect.datalog.Limits``; docs/rule-language.md, "Limits").
    A disk given as a str may be a URI (``nbd://``, ``ssh://``, ``http://``…; docs/cli.md,
    "Remote disks"); ``password``: for those that take one (http, ftp, iscsi, rbd).
    ``extras=False``: virt-inspector's fields only (docs/api.md, "Extra fields").
    ``backend``: ``auto``, ``direct`` or ``appliance`` (:class:`Inspector`).
    """
    with Inspector(
        disks,
        format=format,
        password=password,
        keys=keys,
        applications=applications,
        rules=rules,
        facts_dir=facts_dir,
        timeout=timeout,
        limits=limits,
        extras=extras,
        backend=backend,
    ) as inspector:
        return inspector.inspect()
