"""Who may write what (spec §9.5): research sessions read only, pipeline runs write their outputs.

* :class:`AccessControlled` - mixin of the project's datasets of spec entities (relational tables,
  columnar stores, backtest runs). Outside a Kedro session (tests, scripts) a dataset is open. A
  read-only dataset refuses ``save`` with :class:`ReadOnlyStoreError` naming the entry and what to
  run instead, loads through read-only connections and never migrates the database.
* :class:`StorageAccessHook` (``settings.HOOKS``) - every catalog a session creates starts
  read-only (a ``kedro ipython``/notebook session is research); a pipeline run makes writable
  exactly the entries that are outputs of the pipeline being run (``kedro run --pipelines
  reporting`` may write ``backtest_metrics`` and nothing else of the spec), and sets everything
  back to read-only when it ends. It also applies the ``storage.batches`` parameters: ``append``
  gives the run's versioned outputs one new ``batch_id``; ``pin`` fixes the batch an entry loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kedro.framework.hooks import hook_impl

from statarb.storage.errors import StorageError


class ReadOnlyStoreError(StorageError, PermissionError):
    """A save to a spec entity from a read-only (research) session or by a pipeline that does not
    produce it."""


class AccessControlled:
    """Mixin: ``set_access`` from the hook, ``_guard_save`` in ``save``."""

    _read_only: bool = False
    _entry: str | None = None
    _why: str = ""

    def set_access(self, read_only: bool, entry: str | None = None, why: str = "") -> None:
        """Make the dataset read-only (``save`` refused) or writable; ``entry`` is its catalog
        name (for messages), ``why`` the reason shown when a save is refused."""
        self._read_only = read_only
        self._entry = entry or self._entry
        self._why = why

    @property
    def read_only(self) -> bool:
        return self._read_only

    def _guard_save(self) -> None:
        if self._read_only:
            what = self._entry or type(self).__name__
            raise ReadOnlyStoreError(
                f"{what}: save refused: {self._why or 'this session is read-only'} (spec §9.5: "
                "only the ingestion, alpha and backtest pipelines write the store, reporting "
                "writes backtest_metrics); write it with `kedro run --pipelines <stage>`"
            )


#: SQLSTATEs of a refused write: insufficient privilege, read-only transaction
_DENIED_SQLSTATES = {"42501", "25006"}


def translate_access_error(table: str, conn: Any, exc: Exception) -> ReadOnlyStoreError | None:
    """A :class:`ReadOnlyStoreError` naming ``table`` and the connected role when ``exc`` is a
    refused write (PostgreSQL privilege or read-only transaction, SQLite read-only file), else
    ``None``."""
    orig = getattr(exc, "orig", exc)
    state = getattr(getattr(orig, "diag", None), "sqlstate", None) or getattr(
        orig, "sqlstate", None
    )
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else repr(orig)
    if state not in _DENIED_SQLSTATES and "readonly database" not in text:
        return None
    try:
        who = conn.engine.url.username or "this connection"
    except Exception:
        who = "this connection"
    return ReadOnlyStoreError(
        f"{table}: write refused for {who}: {text} (spec §9.5: writer role for ingestion, alpha "
        "and backtest; reporting writes only backtest_metrics; research is read-only; "
        "see `statarb db roles`)"
    )


def _controlled(catalog: Any) -> Iterator[tuple[str, AccessControlled]]:
    for name in list(catalog.keys()):
        if name.startswith("params:") or name == "parameters":
            continue
        try:
            ds = catalog.get(name)
        except Exception:  # a dataset that cannot even be built is Kedro's error to report
            continue
        if isinstance(ds, AccessControlled):
            yield name, ds


class StorageAccessHook:
    """Kedro hook enforcing the access rules and the batch settings (module docstring)."""

    def __init__(self) -> None:
        self._batches_cfg: Any = None
        self._db_url: str | None = None

    @hook_impl
    def after_catalog_created(
        self, catalog: Any, conf_creds: dict[str, Any], parameters: dict[str, Any]
    ) -> None:
        from statarb.storage.database import resolve_db_url
        from statarb.storage.params import StorageParams

        # Kedro passes {"parameters": {...}, "params:<key>": ...}; plain dicts are accepted too
        cfg = (parameters.get("parameters") or parameters).get("storage")
        self._batches_cfg = StorageParams.from_params(cfg, "storage").batches if cfg else None
        self._db_url = resolve_db_url((conf_creds or {}).get("db"))
        pins = dict(self._batches_cfg.pin) if self._batches_cfg else {}
        entries = dict(_controlled(catalog))
        unknown = sorted(set(pins) - set(entries))
        if unknown:
            raise StorageError(
                f"storage.batches.pin: {unknown} are not versioned catalog entries; known: "
                f"{sorted(n for n, d in entries.items() if hasattr(d, 'pin_batch'))}"
            )
        for name, ds in entries.items():
            ds.set_access(True, name, "a research session (notebook, kedro ipython) is read-only")
            if name in pins:
                ds.pin_batch(pins[name])  # type: ignore[attr-defined]

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        from statarb.storage.batch_log import RunBatches

        outputs = set(pipeline.all_outputs())
        batches = None
        if self._batches_cfg is not None and self._batches_cfg.mode == "append":
            names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
            label = ",".join(str(n) for n in names if n) or "__default__"
            batches = RunBatches(str(self._db_url), self._batches_cfg.note, label)
        for name, ds in _controlled(catalog):
            writable = name in outputs
            ds.set_access(not writable, name, "it is not an output of the pipeline being run")
            if writable and batches is not None and hasattr(ds, "use_batches"):
                ds.use_batches(batches)  # type: ignore[attr-defined]

    def _close(self, catalog: Any) -> None:
        for name, ds in _controlled(catalog):
            ds.set_access(True, name, "the pipeline run has ended")
            if hasattr(ds, "use_batches"):
                ds.use_batches(None)  # type: ignore[attr-defined]

    @hook_impl
    def after_pipeline_run(self, catalog: Any) -> None:
        self._close(catalog)

    @hook_impl
    def on_pipeline_error(self, catalog: Any) -> None:
        self._close(catalog)
