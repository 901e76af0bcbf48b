"""THE list of request relations (rules/wants.dl): who answers each, in which phase, and
what it asks for in words. collectors.base.WANT_RELATIONS, the driver's deadline warning and
``--explain``'s list of looked-for paths are derived from it."""

from collections.abc import Callable
from dataclasses import dataclass

from guestinspect.collectors.answerers.context import AnswerContext
from guestinspect.collectors.answerers.dirs import answer_dirs
from guestinspect.collectors.answerers.packages import answer_packages
from guestinspect.collectors.answerers.paths import answer_paths
from guestinspect.collectors.answerers.registry import answer_registry
from guestinspect.collectors.factset import FactSet

#: An answerer: (context, the wants of its relations, facts to add to).
Answer = Callable[[AnswerContext, FactSet, FactSet], None]


@dataclass(frozen=True)
class Row:
    relation: str
    answer: Answer
    #: the phase (``-v``'s figures, the spinner) in which it is answered
    phase: str
    #: what it asks for, in words (``not read: 3 file contents``)
    words: str
    #: whether ``--explain`` lists its paths among those the rules looked for
    looked_for: bool = False


ANSWERERS: tuple[Row, ...] = (
    Row("WantPath", answer_paths, "paths", "paths", looked_for=True),
    Row("WantContent", answer_paths, "paths", "file contents", looked_for=True),
    Row("WantDir", answer_dirs, "dirs", "directories", looked_for=True),
    Row("WantArch", answer_paths, "paths", "binary architectures", looked_for=True),
    Row("WantRegistryKey", answer_registry, "registry", "registry keys"),
    Row("WantPackages", answer_packages, "packages", "package databases"),
    Row("WantBlob", answer_paths, "paths", "files"),
    Row("WantPeResource", answer_paths, "paths", "PE resources"),
)

#: The phases in the order they run: directories first (a listing fills the stat cache the
#: paths then use).
PHASES = ("dirs", "paths", "registry", "packages")

#: The phases as the spinner names them (``reading …``).
PHASE_WORDS = {
    "mount": "filesystems (mounting)", "dirs": "directories", "paths": "files",
    "registry": "the registry", "packages": "package databases",
}

#: relation -> what it asks for, in words.
WANTED = {row.relation: row.words for row in ANSWERERS}
