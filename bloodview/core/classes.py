"""The cell class catalogue: names, stable ids, colours and keyboard keys.

Ids are stable per catalogue: 1..8 for the PBC classes in the order of the PBC
folders (id 0 is reserved for background in the model). Colours come from Paul
Tol's "muted" palette, designed to stay distinguishable for colour-blind readers.
A project may add classes (e.g. ``rbc``); added classes get the next free id,
a colour no other class uses (:data:`EXTRA_COLOURS`, then golden-angle hues), the
first free key of 1-9, 0, and count as white cells when their name says so
(``WBC``, ``white cell``, ``leukocyte``: :func:`is_white_cell_name`).

Red cells (``rbc``, ``RBC``, ``red cell``, ``erythrocyte``: :func:`is_red_cell_name`)
are known by name rather than by a fixed id, so old projects, files and models
without them keep their ids: a red-cell class is never a white cell (whatever a
file says), takes a red colour when it is free, and any red-cell spelling resolves
to the catalogue's red-cell class. Erythroblasts (nucleated red cells) are not red
cells here: they keep their own PBC class.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bloodview.errors import UnknownClassError

RGB = tuple[int, int, int]

# Paul Tol "muted" (colour-blind safe), plus its pale grey for extra classes.
TOL_MUTED: tuple[RGB, ...] = (
    (0x88, 0xCC, 0xEE),  # cyan
    (0xCC, 0x66, 0x77),  # rose
    (0xDD, 0xCC, 0x77),  # sand
    (0x11, 0x77, 0x33),  # green
    (0x33, 0x22, 0x88),  # indigo
    (0xAA, 0x44, 0x99),  # purple
    (0x44, 0xAA, 0x99),  # teal
    (0x99, 0x99, 0x33),  # olive
    (0x88, 0x22, 0x55),  # wine
)

# For classes a project adds: Tol muted's unused purple, then Tol "vibrant" and "light"
# colours (colour-blind safe, none equal to a PBC colour).
EXTRA_COLOURS: tuple[RGB, ...] = (
    (0xAA, 0x44, 0x99),  # purple
    (0xEE, 0x77, 0x33),  # orange
    (0x00, 0x77, 0xBB),  # blue
    (0xEE, 0x33, 0x77),  # magenta
    (0xCC, 0x33, 0x11),  # red
    (0x00, 0x99, 0x88),  # teal
    (0xEE, 0xDD, 0x88),  # light yellow
    (0xFF, 0xAA, 0xBB),  # pink
    (0xBB, 0xCC, 0x33),  # pear
    (0x77, 0xAA, 0xDD),  # light blue
    (0xBB, 0xBB, 0xBB),  # grey
)
CLASS_KEYS = "1234567890"
# A red-cell class's colour when no class uses it yet (Tol vibrant red; no PBC class is red).
RED_CELL_COLOUR: RGB = (0xCC, 0x33, 0x11)

# Names other tools give to white cells in general (lower-cased, spaces/underscores/dashes as one space).
WHITE_CELL_NAMES = frozenset({
    "wbc", "wbcs", "white cell", "white cells", "white blood cell", "white blood cells", "leukocyte",
    "leukocytes", "leucocyte", "leucocytes", "granulocyte", "granulocytes", "band", "band neutrophil",
    "segmented neutrophil", "blast", "blasts", "myeloblast", "promyelocyte", "myelocyte", "metamyelocyte",
    "atypical lymphocyte", "reactive lymphocyte", "plasma cell", "smudge cell", "smudge cells",
})


# Names for mature red cells (erythrocytes); erythroblasts are a class of their own.
RED_CELL_NAMES = frozenset({
    "rbc", "rbcs", "red cell", "red cells", "red blood cell", "red blood cells", "erythrocyte",
    "erythrocytes", "red blood corpuscle", "red blood corpuscles",
})

RED_CELL_DISPLAY_NAME = "Red cell"
"""How a red-cell class that a detection brings into a project is shown (the red-cell finder names
its cells ``rbc``, as BCCD and VOC files do; a row reading "rbc" among "Lymphocyte" and
"Neutrophil" looked like a bug to the user)."""

# Names for platelets, counted for the platelet estimate.
PLATELET_NAMES = frozenset({"platelet", "platelets", "plt", "plts", "thrombocyte", "thrombocytes"})


def _plain(name: str) -> str:
    return " ".join(name.lower().replace("_", " ").replace("-", " ").split())


def is_white_cell_name(name: str) -> bool:
    """Whether another tool's class name means a white cell (``WBC``, ``white_cell``, ``Leukocytes``)."""
    return _plain(name) in WHITE_CELL_NAMES


def is_red_cell_name(name: str) -> bool:
    """Whether a class name means a (mature) red cell (``RBC``, ``red_cell``, ``Erythrocytes``)."""
    return _plain(name) in RED_CELL_NAMES


def shown_name(name: str) -> str:
    """The display name for a class a prediction or a file brings into a project.

    A red-cell name written as an identifier (all lower case: the red-cell finder's ``rbc``, which
    bloodview's own exports write back) is shown as "Red cell"; any other spelling as written (a
    file's ``RBC`` or ``Erythrocytes`` is what its author chose)."""
    return RED_CELL_DISPLAY_NAME if name == name.lower() and is_red_cell_name(name) else name


def is_platelet_name(name: str) -> bool:
    """Whether a class name means platelets (``platelet``, ``Platelets``, ``thrombocyte``, ``PLT``)."""
    return _plain(name) in PLATELET_NAMES


def _free_colour(used: set[RGB]) -> RGB:
    """The first :data:`EXTRA_COLOURS` entry not in ``used``, else a distinct golden-angle hue."""
    for colour in EXTRA_COLOURS:
        if colour not in used:
            return colour
    hue = 0.0
    while True:
        hue = (hue + 0.618033988749895) % 1.0
        r, g, b = colorsys.hsv_to_rgb(hue, 0.55, 0.8)
        colour = (round(r * 255), round(g * 255), round(b * 255))
        if colour not in used:
            return colour


@dataclass(frozen=True)
class CellClass:
    """One kind of cell the lab counts.

    ``white_cell`` says whether the class counts towards the leukocyte
    differential ("per 100 white cells"); erythroblasts, platelets and red cells
    do not. A red-cell class (:attr:`red_cell`) is never white, even when an old
    file says so.
    """

    id: int
    name: str
    display_name: str
    color: RGB
    key: str | None = None
    white_cell: bool = True

    def __post_init__(self) -> None:
        if self.id < 1:
            raise ValueError(f"class id must be >= 1 (0 is background), got {self.id}")
        if not self.name or self.name != self.name.strip():
            raise ValueError(f"class name must be non-empty without outer spaces: {self.name!r}")
        if self.white_cell and self.red_cell:
            object.__setattr__(self, "white_cell", False)  # frozen: set once, here

    @property
    def red_cell(self) -> bool:
        """A red-cell class by its name or display name (``rbc``, ``Red cell``…)."""
        return is_red_cell_name(self.name) or is_red_cell_name(self.display_name)

    @property
    def platelet(self) -> bool:
        """A platelet class by its name or display name (``platelet``, ``Platelets``…)."""
        return is_platelet_name(self.name) or is_platelet_name(self.display_name)


PBC_CLASSES: tuple[CellClass, ...] = (
    CellClass(1, "basophil", "Basophil", TOL_MUTED[4], "1"),
    CellClass(2, "eosinophil", "Eosinophil", TOL_MUTED[1], "2"),
    CellClass(3, "erythroblast", "Erythroblast", TOL_MUTED[8], "3", white_cell=False),
    CellClass(4, "ig", "Immature granulocyte", TOL_MUTED[2], "4"),
    CellClass(5, "lymphocyte", "Lymphocyte", TOL_MUTED[0], "5"),
    CellClass(6, "monocyte", "Monocyte", TOL_MUTED[6], "6"),
    CellClass(7, "neutrophil", "Neutrophil", TOL_MUTED[3], "7"),
    CellClass(8, "platelet", "Platelet", TOL_MUTED[7], "8", white_cell=False),
)

# Names other tools and data sets use for our classes (lower-cased look-up).
ALIASES: dict[str, str] = {
    "immature granulocyte": "ig",
    "immature_granulocyte": "ig",
    "platelets": "platelet",
    "erythroblasts": "erythroblast",
    "neutrophils": "neutrophil",
    "lymphocytes": "lymphocyte",
    "monocytes": "monocyte",
    "eosinophils": "eosinophil",
    "basophils": "basophil",
    "thrombocyte": "platelet",
    "thrombocytes": "platelet",
}


class ClassCatalogue:
    """An ordered set of :class:`CellClass`, looked up by name, id or key."""

    def __init__(self, classes: Iterable[CellClass] = PBC_CLASSES):
        self._classes: list[CellClass] = []
        for cell_class in classes:
            self._insert(cell_class)

    @classmethod
    def pbc(cls) -> ClassCatalogue:
        return cls(PBC_CLASSES)

    def _insert(self, cell_class: CellClass) -> None:
        if any(c.name == cell_class.name for c in self._classes):
            raise ValueError(f"duplicate class name {cell_class.name!r}")
        if any(c.id == cell_class.id for c in self._classes):
            raise ValueError(f"duplicate class id {cell_class.id}")
        self._classes.append(cell_class)

    def add(
        self,
        name: str,
        display_name: str | None = None,
        color: RGB | None = None,
        key: str | None = None,
        white_cell: bool | None = None,
    ) -> CellClass:
        """Add a project class (e.g. ``rbc``) with the next free id; return it.

        Without ``color`` it gets one no class of the catalogue uses; without
        ``key`` the first free one of 1-9, 0 (none when all are taken);
        ``white_cell=None`` takes the PBC class's flag for a PBC name (a catalogue
        built from a model's class list), and a PBC name without ``display_name`` its display name and otherwise counts it as a white cell
        when its name or display name says so (:func:`is_white_cell_name`). A red-cell class
        (:func:`is_red_cell_name`) is never white and gets :data:`RED_CELL_COLOUR` while it is
        free. Adding a name that exists returns the existing class unchanged.
        """
        name = name.strip()
        if name in self:
            return self[name]
        new_id = max((c.id for c in self._classes), default=0) + 1
        used_colours = {c.color for c in self._classes}
        red = is_red_cell_name(name) or is_red_cell_name(display_name or "")
        if color is None and red and RED_CELL_COLOUR not in used_colours:
            color = RED_CELL_COLOUR
        if color is None:
            color = _free_colour(used_colours)
        used_keys = {c.key for c in self._classes}
        if key is None:
            key = next((k for k in CLASS_KEYS if k not in used_keys), None)
        pbc = next((c for c in PBC_CLASSES if c.name == name.lower()), None)
        if white_cell is None:
            white_cell = pbc.white_cell if pbc is not None else (
                is_white_cell_name(name) or is_white_cell_name(display_name or ""))
        if display_name is None:  # a PBC name keeps its display name ("ig": Immature granulocyte, not "Ig")
            display_name = pbc.display_name if pbc is not None and pbc.name == name else name.capitalize()
        cell_class = CellClass(new_id, name, display_name, color, key, white_cell)
        self._insert(cell_class)
        return cell_class

    def resolve(self, name: str) -> str:
        """Map a name as another tool spells it to our class name, or raise.

        Any red-cell spelling (``RBC``, ``erythrocytes``, ``red blood cell``) maps to the
        catalogue's first red-cell class, so files that name red cells differently share one.
        """
        key = name.strip()
        if key in self:
            return key
        lowered = key.lower()
        if lowered in self:
            return lowered
        alias = ALIASES.get(lowered)
        if alias is not None and alias in self:
            return alias
        for c in self._classes:
            if c.display_name.lower() == lowered:
                return c.name
        if is_red_cell_name(key) and self.red_cell_names:
            return self.red_cell_names[0]
        raise UnknownClassError(name, self.names)

    def __getitem__(self, name_or_id: str | int) -> CellClass:
        for c in self._classes:
            if (isinstance(name_or_id, int) and c.id == name_or_id) or c.name == name_or_id:
                return c
        raise UnknownClassError(str(name_or_id), self.names)

    def by_key(self, key: str) -> CellClass | None:
        return next((c for c in self._classes if c.key == key), None)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self._classes)

    def __iter__(self) -> Iterator[CellClass]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClassCatalogue) and self._classes == other._classes

    @property
    def names(self) -> list[str]:
        return [c.name for c in self._classes]

    @property
    def red_cell_names(self) -> list[str]:
        """Names of the red-cell classes (usually none or one, e.g. BCCD's ``rbc``)."""
        return [c.name for c in self._classes if c.red_cell]

    def index(self, name: str) -> int:
        """0-based position of ``name`` (the model's class index is this + 1)."""
        return self.names.index(self.resolve(name))

    def to_list(self) -> list[dict]:
        return [
            {
                "id": c.id,
                "name": c.name,
                "display_name": c.display_name,
                "color": "#%02x%02x%02x" % c.color,
                "key": c.key,
                "white_cell": c.white_cell,
            }
            for c in self._classes
        ]

    @classmethod
    def from_list(cls, items: list[dict]) -> ClassCatalogue:
        """The catalogue :meth:`to_list` wrote; ``ValueError`` (or ``KeyError``/``TypeError``)
        saying what is wrong when an entry is damaged."""
        if not isinstance(items, list):
            raise ValueError(f"the class list must be a list, got {type(items).__name__}")
        classes = []
        for item in items:
            if not isinstance(item, dict):
                raise ValueError(f"a class entry must be an object, got {item!r:.60}")
            name, key = item["name"], item.get("key")
            class_id = item["id"]
            if not isinstance(name, str) or not isinstance(class_id, int) or isinstance(class_id, bool):
                raise ValueError(f"a class needs a text 'name' and an integer 'id', got {name!r:.40}, {class_id!r:.20}")
            if key is not None and not (isinstance(key, str) and len(key) == 1):
                raise ValueError(f"class {name!r}: 'key' must be one character or null, got {key!r:.20}")
            classes.append(
                CellClass(
                    class_id,
                    name,
                    str(item.get("display_name", name)),
                    _parse_colour(item.get("color", "#888888"), name),
                    key,
                    bool(item.get("white_cell", True)),
                )
            )
        return cls(classes)


def _parse_colour(text: object, name: str) -> RGB:
    """``"#rrggbb"`` as an RGB triple (ValueError naming the class otherwise)."""
    digits = text.lstrip("#") if isinstance(text, str) else ""
    if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError(f"class {name!r}: colour must be '#rrggbb', got {text!r:.20}")
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
