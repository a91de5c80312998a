"""The SIP trace viewer: every message in and out as a list and as a ladder, copyable for support."""

from __future__ import annotations

import time

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.trace import TraceEntry, account_of
from .controller import PhoneController
from .theme import BLUE, GREEN, app_icon, icon

ROW_LIMIT = 5000


def stamp(entry: TraceEntry) -> str:
    return time.strftime("%H:%M:%S", time.localtime(entry.timestamp)) + f"{entry.timestamp % 1:.3f}"[1:]


class LadderView(QWidget):
    """A sequence diagram: this phone on the left, each peer a column, one arrow per message. A click on
    an arrow selects that message (``clicked`` with its index in ``entries``)."""

    clicked = Signal(int)
    ROW = 26
    COLUMN = 220
    MARGIN = 16

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Ladder diagram"))
        self.entries: list[TraceEntry] = []
        self.peers: list[str] = []
        self.selected: int | None = None

    def set_entries(self, entries: list[TraceEntry]) -> None:
        self.entries = entries[-400:]
        self.peers = []
        for entry in self.entries:
            if entry.peer not in self.peers:
                self.peers.append(entry.peer)
        self.updateGeometry()
        self.resize(self.sizeHint())
        self.update()

    def row_at(self, y: float) -> int | None:
        top = self.MARGIN + 24
        row = int((y - top) // self.ROW)
        return row if 0 <= row < len(self.entries) else None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        row = self.row_at(event.position().y())
        if row is not None:
            self.selected = row
            self.update()
            self.clicked.emit(row)

    def sizeHint(self) -> QSize:
        width = self.MARGIN * 2 + self.COLUMN * (len(self.peers) + 1) + 80
        height = self.MARGIN * 2 + 30 + self.ROW * len(self.entries)
        return QSize(width, height)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        columns = [self.tr("This phone"), *self.peers]
        xs = [self.MARGIN + 80 + i * self.COLUMN for i in range(len(columns))]
        top = self.MARGIN + 24
        bottom = top + self.ROW * max(1, len(self.entries))
        painter.setPen(text)
        for x, name in zip(xs, columns, strict=True):
            painter.drawText(
                QRectF(x - self.COLUMN / 2, self.MARGIN, self.COLUMN, 20), Qt.AlignmentFlag.AlignCenter, name
            )
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x, top), QPointF(x, bottom))
            painter.setPen(text)
        small = painter.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        painter.setFont(small)
        for row, entry in enumerate(self.entries):
            y = top + self.ROW * row + self.ROW * 0.7
            if row == self.selected:
                painter.fillRect(
                    QRectF(0, top + self.ROW * row, self.width(), self.ROW),
                    palette.color(QPalette.ColorRole.Highlight),
                )
            peer_x = xs[1 + self.peers.index(entry.peer)]
            start, end = (xs[0], peer_x) if entry.direction == "out" else (peer_x, xs[0])
            color = QColor(BLUE if entry.direction == "out" else GREEN)
            painter.setPen(QPen(color, 1.5))
            painter.drawLine(QPointF(start, y), QPointF(end, y))
            sign = 1 if end > start else -1
            head = QPolygonF(
                [QPointF(end, y), QPointF(end - 8 * sign, y - 4), QPointF(end - 8 * sign, y + 4)]
            )
            painter.setBrush(color)
            painter.drawPolygon(head)
            painter.setPen(text)
            label = entry.first_line
            if label.startswith("SIP/2.0 "):
                label = label[8:]
            else:
                label = label.split(" ", 1)[0]
            left = min(start, end)
            painter.drawText(
                QRectF(left, y - self.ROW + 4, abs(end - start), self.ROW - 6),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                label,
            )
            painter.drawText(
                QRectF(2, y - self.ROW + 4, 76, self.ROW - 6),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                stamp(entry)[:8],
            )
        painter.end()


class TraceWindow(QWidget):
    """Shows the controller's trace; new messages arrive live."""

    def __init__(self, controller: PhoneController, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.controller = controller
        self.setWindowTitle(self.tr("SIP trace"))
        self.setWindowIcon(app_icon())
        self.entries: list[TraceEntry] = []
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText(self.tr("Filter: method, status, address, Call-ID…"))
        self.filter.setAccessibleName(self.tr("Filter messages"))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.refresh)
        self.follow = QCheckBox(self.tr("&Follow"), self)
        self.follow.setChecked(True)
        self.follow.setAccessibleName(self.tr("Scroll to new messages"))
        self.copy_selected = QPushButton(icon("copy"), self.tr("&Copy selected"), self)
        self.copy_selected.setAccessibleName(self.tr("Copy the selected messages"))
        self.copy_selected.clicked.connect(self.copy_selection)
        self.copy_all = QPushButton(icon("copy"), self.tr("Copy &all"), self)
        self.copy_all.setAccessibleName(self.tr("Copy every message shown"))
        self.copy_all.clicked.connect(self.copy_everything)
        self.clear_button = QPushButton(icon("delete"), self.tr("C&lear"), self)
        self.clear_button.setAccessibleName(self.tr("Clear the trace"))
        self.clear_button.clicked.connect(self.clear)
        top.addWidget(self.filter, 1)
        top.addWidget(self.follow)
        top.addWidget(self.copy_selected)
        top.addWidget(self.copy_all)
        top.addWidget(self.clear_button)
        layout.addLayout(top)

        self.table = QTableWidget(0, 5, self)
        self.table.setAccessibleName(self.tr("SIP messages"))
        self.table.setHorizontalHeaderLabels(
            [self.tr("Time"), "", self.tr("Account"), self.tr("Peer"), self.tr("Message")]
        )
        header = self.table.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.itemSelectionChanged.connect(self._selected)
        self.detail = QPlainTextEdit(self)
        self.detail.setReadOnly(True)
        self.detail.setAccessibleName(self.tr("Message text"))
        self.detail.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.detail.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setSizes([300, 200])

        self.ladder = LadderView(self)
        self.ladder.clicked.connect(self._ladder_clicked)
        scroll = QScrollArea(self)
        scroll.setWidget(self.ladder)
        scroll.setWidgetResizable(False)
        self.ladder_scroll = scroll
        self.tabs = QTabWidget(self)
        self.tabs.addTab(splitter, self.tr("&List"))
        self.tabs.addTab(scroll, self.tr("La&dder"))
        self.tabs.currentChanged.connect(lambda _: self._refresh_ladder())
        layout.addWidget(self.tabs, 1)
        if not self.controller.trace:
            self.detail.setPlaceholderText(
                self.tr("No SIP messages yet. Register an account or place a call to see them here.")
            )
        controller.trace_added.connect(self.add_entry)
        self.resize(900, 600)
        self.refresh()

    def _matches(self, entry: TraceEntry) -> bool:
        needle = self.filter.text().strip().lower()
        return not needle or needle in entry.text.lower() or needle in entry.peer.lower()

    def refresh(self) -> None:
        self.table.setRowCount(0)
        self.entries = []
        for entry in self.controller.trace:
            if self._matches(entry):
                self._append(entry)
        self._refresh_ladder()

    def _append(self, entry: TraceEntry) -> None:
        if len(self.entries) >= ROW_LIMIT:
            self.entries.pop(0)
            self.table.removeRow(0)
        self.entries.append(entry)
        row = self.table.rowCount()
        self.table.insertRow(row)
        arrow = "→" if entry.direction == "out" else "←"
        cells = (stamp(entry), arrow, self._account_title(entry), entry.peer, entry.first_line)
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if column == 1:
                item.setToolTip(self.tr("sent") if entry.direction == "out" else self.tr("received"))
                item.setForeground(QColor(BLUE if entry.direction == "out" else GREEN))
            self.table.setItem(row, column, item)

    def add_entry(self, entry: TraceEntry) -> None:
        if not self._matches(entry):
            return
        self._append(entry)
        if self.follow.isChecked():
            self.table.scrollToBottom()
        if self.tabs.currentIndex() == 1:
            self._refresh_ladder()

    def _refresh_ladder(self) -> None:
        if self.tabs.currentIndex() == 1:
            self.ladder.set_entries(self.entries)

    def _account_title(self, entry: TraceEntry) -> str:
        accounts = {status.id: status.config.aor for status in self.controller.account_list()}
        account_id = account_of(entry.text, accounts)
        return self.controller.accounts[account_id].title if account_id in self.controller.accounts else ""

    def _ladder_clicked(self, row: int) -> None:
        """The arrow's message: selected in the list, its text shown below the ladder's list tab."""
        index = len(self.entries) - len(self.ladder.entries) + row
        if 0 <= index < len(self.entries):
            self.table.selectRow(index)
            self.detail.setPlainText(self.entries[index].format())
            self.ladder.setToolTip(self.entries[index].first_line)

    def _selected_entries(self) -> list[TraceEntry]:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        return [self.entries[row] for row in rows if row < len(self.entries)]

    def _selected(self) -> None:
        chosen = self._selected_entries()
        self.detail.setPlainText("\n".join(entry.format() for entry in chosen))

    def copy_selection(self) -> str:
        text = "\n".join(entry.format() for entry in self._selected_entries())
        QGuiApplication.clipboard().setText(text)
        return text

    def copy_everything(self) -> str:
        text = "\n".join(entry.format() for entry in self.entries)
        QGuiApplication.clipboard().setText(text)
        return text

    def clear(self) -> None:
        self.controller.clear_trace()
        self.detail.clear()
        self.refresh()
