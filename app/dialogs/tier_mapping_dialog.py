"""The mapping step of File ▸ Import ▸ Labels: where each freely named ELAN/Praat tier goes, and what to do
with labels its scheme does not know.

Shown when a file's tiers do not all say ``PARTICIPANT|TIER|ANNOTATOR`` or some labels are outside their
schemes. One table lists the file's tiers with combo boxes (participant, tier, annotator, scheme)
prefilled with ``tier_mapping.guess_targets``'s guess (a tier whose labels are mostly in no scheme of the project,
"Speaker B laughs", is guessed onto a *new scheme for this tier*, named after the tier, holding its labels as
classes: ``tier_schemes.py``); the other lists the unknown labels (found by a dry
run of the import with the current mapping, redone on every change) with a choice each: map to a class,
add to the scheme, or refuse. OK is enabled once every tier is placed and every label decided; it hands
back ``dyadlab import-labels`` options (``--session``, ``--map``, ``--unknown``), which the File menu runs
as a job. Cancel imports nothing. The rules live in ``core``; this dialog only collects the choices.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dyadlab.core.errors import DyadLabError
from dyadlab.core.io.label_files.tier_mapping import (
    TierTarget,
    find_unknown_labels,
    guess_fields,
    guess_scheme,
    guess_targets,
    needs_mapping,
    project_names,
    read_file_tiers,
)
from dyadlab.core.io.label_files.tier_schemes import NEW_SCHEME
from dyadlab.core.labels.naming import SESSION_LEVEL, TierKey

if TYPE_CHECKING:
    from dyadlab.core.io.label_files.label_import import LabelDocument
    from dyadlab.core.project import Project

TIER_COLUMNS = ("Import", "File tier", "Annotations", "Participant", "Tier", "Annotator", "Scheme")
AUTOMATIC = "(automatic)"
NEW_SCHEME_TEXT = "new scheme for this tier"
REFUSE_TEXT = "refuse (import nothing)"
ADD_TEXT = "add to the scheme"
NEW = " (new)"
ON_EXISTING = (("error", "refuse the import"), ("replace", "replace their segments"),
               ("merge", "add to them (nothing may overlap)"))


class TierMappingDialog(QDialog):
    """Collects a tier mapping and unknown-label choices for one ELAN or Praat file (see module doc)."""

    def __init__(self, project: Project, doc: LabelDocument, *, session: str | None = None,
                 annotator: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TierMappingDialog")
        self.setWindowTitle(f"Import labels: {doc.path.name}")
        self.project, self.doc = project, doc
        with project.store.transaction() as tx:
            self.sessions = {s.name: [p.code for p in tx.participants.list(s.id)] for s in tx.sessions.list()}
            self.schemes = {s.name: s for s in tx.schemes.list() if s.kind in ("categorical", "dimensional")}
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Where should the tiers of {doc.path.name} go? Guesses are filled in; "
                                f"untick a tier to leave it out."))
        self.session = QComboBox()
        self.session.setObjectName("session")
        self.session.addItems(sorted(self.sessions))
        if doc.session and doc.session not in self.sessions:
            self.session.addItem(doc.session + NEW)
        start = doc.session if doc.session in self.sessions else session if session in self.sessions else None
        self.session.setCurrentText(start or (doc.session or "") + NEW)
        layout.addWidget(QLabel("Session"))
        layout.addWidget(self.session)
        names = project_names(project, self.session_name(), annotator)
        self.names = names
        self.rows = [t for t in doc.tiers if t.key is None or not t.key.extra]
        guesses = guess_targets(doc, names)
        fields = {t.name: guess_fields(t.name, names, participant=t.participant_hint, annotator=t.annotator_hint)
                  for t in self.rows}
        self.tiers = QTableWidget(len(self.rows), len(TIER_COLUMNS))
        self.tiers.setObjectName("tiers")
        self.tiers.setHorizontalHeaderLabels(TIER_COLUMNS)
        for row, tier in enumerate(self.rows):
            guess = guesses.get(tier.name)
            scheme = guess.scheme if guess is not None and guess.key is not None else guess_scheme(
                tier, fields[tier.name][1], names)
            self._fill_tier_row(row, tier.name, len(tier.segments), guess, fields[tier.name], scheme)
        self.tiers.resizeColumnsToContents()
        for column, width in ((3, 90), (4, 150), (5, 110)):  # combo boxes do not size their column: room for
            self.tiers.setColumnWidth(column, max(self.tiers.columnWidth(column), width))  # "speaker_laughs"
        self.tiers.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.tiers)
        layout.addWidget(QLabel("Labels the tiers' schemes do not know"))
        self.labels = QTableWidget(0, 4)
        self.labels.setObjectName("unknown_labels")
        self.labels.setHorizontalHeaderLabels(("Label", "Scheme", "Segments", "Choice"))
        self.labels.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.labels)
        layout.addWidget(QLabel("Tiers that already hold segments"))
        self.on_existing = QComboBox()
        self.on_existing.setObjectName("on_existing")
        for value, text in ON_EXISTING:
            self.on_existing.addItem(text, value)
        self.on_existing.currentIndexChanged.connect(lambda _i: self.check())
        layout.addWidget(self.on_existing)
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c62828")
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.session.currentTextChanged.connect(lambda _t: self._session_changed())
        self.resize(860, 560)
        self.check()

    # -- the tiers table --------------------------------------------------------------------------------

    def _combo(self, row: int, column: int, items: list[str], current: str, editable: bool = True) -> QComboBox:
        box = QComboBox()
        box.setEditable(editable)
        box.addItems(items)
        box.setCurrentText(current)
        box.setObjectName(f"{TIER_COLUMNS[column].lower()}.{row}")
        box.currentTextChanged.connect(lambda _t: self.check())
        self.tiers.setCellWidget(row, column, box)
        return box

    def _fill_tier_row(self, row: int, name: str, count: int, guess: TierTarget | None,
                       fields: tuple[str, str, str], scheme: str | None) -> None:
        use = QCheckBox()
        use.setObjectName(f"import.{row}")
        use.setChecked(guess is None or guess.key is not None)
        use.toggled.connect(lambda _c: self.check())
        self.tiers.setCellWidget(row, 0, use)
        for column, text in ((1, name), (2, str(count))):
            item = QTableWidgetItem(text)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.tiers.setItem(row, column, item)
        code, tier, who = fields
        self._combo(row, 3, [*self.names.participants, SESSION_LEVEL], code)
        self._combo(row, 4, list(self.names.tiers), tier)
        self._combo(row, 5, list(self.names.annotators), who)
        box = self._combo(row, 6, [AUTOMATIC, NEW_SCHEME_TEXT, *sorted(self.schemes)],
                          NEW_SCHEME_TEXT if scheme == NEW_SCHEME else scheme or AUTOMATIC, editable=False)
        box.setItemData(1, "A new categorical scheme named after the tier (the Tier column), its labels its classes",
                        Qt.ItemDataRole.ToolTipRole)

    def _cell(self, row: int, column: int) -> str:
        return self.tiers.cellWidget(row, column).currentText().strip()

    def session_name(self) -> str:
        return self.session.currentText().removesuffix(NEW).strip()

    def _session_changed(self) -> None:
        codes = self.sessions.get(self.session_name(), [])
        for row in range(len(self.rows)):
            box = self.tiers.cellWidget(row, 3)
            current = box.currentText()
            box.blockSignals(True)
            box.clear()
            box.addItems([*codes, SESSION_LEVEL])
            box.setCurrentText(current)
            box.blockSignals(False)
        self.check()

    def mapping(self) -> dict[str, TierTarget]:
        """File tier name -> target, as the table says now (raises DyadLabError for an unfinished row)."""
        mapping = {}
        for row, tier in enumerate(self.rows):
            if not self.tiers.cellWidget(row, 0).isChecked():
                mapping[tier.name] = TierTarget(None)
                continue
            code, name, who = self._cell(row, 3), self._cell(row, 4), self._cell(row, 5)
            if not (code and name and who):
                missing = [what for what, text in (("participant", code), ("tier", name), ("annotator", who))
                           if not text]
                raise DyadLabError(f"tier {tier.name!r}: choose its {' and '.join(missing)}, or untick it")
            scheme = {AUTOMATIC: None, NEW_SCHEME_TEXT: NEW_SCHEME}.get(self._cell(row, 6), self._cell(row, 6))
            mapping[tier.name] = TierTarget(TierKey(None if code == SESSION_LEVEL else code, name, who), scheme)
        return mapping

    # -- unknown labels ---------------------------------------------------------------------------------

    def _fill_labels(self, found: dict) -> None:
        previous = self.choices()
        rows = [(label, scheme, n) for scheme, counts in sorted(found.items()) for label, n in sorted(counts.items())]
        self.labels.setRowCount(len(rows))
        for row, (label, scheme, n) in enumerate(rows):
            for column, text in enumerate((label, scheme, str(n))):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.labels.setItem(row, column, item)
            box = QComboBox()
            box.setObjectName(f"choice.{label}")
            box.addItem(REFUSE_TEXT, "refuse")
            box.addItem(ADD_TEXT, "add")
            for cls in self.schemes[scheme].definition.get("classes", []) if scheme in self.schemes else []:
                box.addItem(f"map to {cls['name']}", f"map:{cls['name']}")
            if label in previous:
                box.setCurrentIndex(max(0, box.findData(previous[label])))
            box.currentIndexChanged.connect(lambda _i: self._update_ok())
            self.labels.setCellWidget(row, 3, box)
        self.labels.resizeColumnsToContents()

    def choices(self) -> dict[str, str]:
        """Unknown label -> ``refuse`` | ``add`` | ``map:CLASS`` as chosen."""
        return {self.labels.item(row, 0).text(): self.labels.cellWidget(row, 3).currentData()
                for row in range(self.labels.rowCount())}

    # -- checking ---------------------------------------------------------------------------------------

    def check(self) -> None:
        """Dry-run the import with the current mapping: list unknown labels, or say what is wrong."""
        self._error = ""
        try:
            found = find_unknown_labels(self.project, self.doc, self.mapping(), session=self.session_name(),
                                        on_existing=self.on_existing.currentData())
        except DyadLabError as exc:
            self._error = str(exc.problem if exc.hint is None else f"{exc.problem} ({exc.hint})")
            found = {}
        self._fill_labels(found)
        self._update_ok()

    def _update_ok(self) -> None:
        undecided = [label for label, choice in self.choices().items() if choice == "refuse"]
        text = self._error or (f"decide about {', '.join(map(repr, undecided))}: map, add, or Cancel"
                               if undecided else "")
        self.problem.setText(text)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not text)

    def arguments(self) -> list[str]:
        """``dyadlab import-labels`` options saying everything chosen here."""
        args = ["--session", self.session_name(), "--on-existing", self.on_existing.currentData()]
        for name, target in self.mapping().items():
            args += ["--map", f"{name}={target.format()}"]
        for label, choice in self.choices().items():
            args += ["--unknown", f"map:{label}={choice[4:]}" if choice.startswith("map:") else f"{label}={choice}"]
        return args


def ask_label_mapping(parent: QWidget, project: Project, path: Path, *, session: str | None = None,
                      annotator: str | None = None) -> list[str] | None:
    """Extra ``import-labels`` options for ``path``: [] when its tiers and labels need no decision, None
    when the user cancelled (or the file cannot be read: the reason is shown), else the dialog's choices."""
    from PySide6.QtWidgets import QMessageBox

    from dyadlab.core.io.label_files.label_formats import detect_format

    try:
        if detect_format(path) not in ("eaf", "textgrid"):
            return []
        doc = read_file_tiers(path)
    except DyadLabError as exc:
        QMessageBox.critical(parent, "Import labels", f"Nothing was imported.\n\n{exc}")
        return None
    if not needs_mapping(doc):
        try:
            if not find_unknown_labels(project, doc, {}):
                return []
        except DyadLabError:
            return []  # the import job reports it, as for any file
    dialog = TierMappingDialog(project, doc, session=session, annotator=annotator, parent=parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.arguments()
