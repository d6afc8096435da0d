"""One resolver for the database, the stores and the parameters of a Kedro project (issue 11).

Every entry point (``kedro run``, ``kedro ipython``, the ``statarb`` commands, the notebook)
reaches the relational database and the columnar stores through the project's Kedro
configuration: ``conf/base`` overridden by the run environment (``--env``, else ``$KEDRO_ENV``,
else ``local``), credentials included. So PostgreSQL configured only in
``conf/local/credentials.yml`` is what every tool uses.

* :func:`normalize_credentials` - relative SQLite URLs (``sqlite:///data/statarb.db``) are made
  absolute against the project root, like Kedro does for catalog ``path``/``filepath`` keys; the
  project's :class:`~statarb.context.ProjectContext` applies it to ``kedro run`` too, so a run, a
  notebook started in ``notebooks/`` and a command started elsewhere open the same file.
* :func:`load_project` - a :class:`Project`: the resolved catalog configuration, credentials and
  parameters of one environment, read with the project's loader class and arguments
  (:mod:`statarb.config_loader`, shared with ``settings.py``; no session, no hooks: fast enough
  for a command line).
* :meth:`Project.stores` - every columnar catalog entry (Parquet or HDF5 tier) as a
  :class:`StoreRef` (absolute root, layout, tier, source).
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from statarb.storage.database import DEFAULT_DB_URL, resolve_db_url
from statarb.storage.errors import StorageError

#: catalog ``type`` -> (tier of the columnar store, ``"module:function"`` of its reader). The
#: reader takes ``(root, layout, symbols=, pair_ids=, start=, end=, columns=, source=, batch=)``
#: and gives a LazyFrame (``parquet_read.scan_store``); a new tier is one line here.
STORE_TYPES: dict[str, tuple[str, str]] = {
    "statarb.storage.parquet_dataset.PartitionedParquetDataset": (
        "parquet",
        "statarb.storage.parquet_read:scan_store",
    ),
    "statarb.storage.hdf5_dataset.HDF5StoreDataset": (
        "hdf5",
        "statarb.storage.hdf5_store:scan_hdf5",
    ),
}
_READERS = dict(STORE_TYPES.values())
PATH_KEYS = ("path", "filepath", "filename", "equity_path")


class ProjectNotFound(StorageError):
    """No Kedro project (a folder with ``conf/base``) at or above the given path."""


@dataclass(frozen=True)
class StoreRef:
    """A columnar catalog entry: where it lives and how it is laid out."""

    name: str
    root: Path
    layout: str
    tier: str  # "parquet" | "hdf5"
    source: str | None = None


def scan_entry(ref: StoreRef, **kwargs: Any) -> Any:
    """Lazy frame over the columnar entry ``ref`` with its tier's reader (:data:`STORE_TYPES`;
    the same keyword arguments for every tier)."""
    import importlib

    module, func = _READERS[ref.tier].split(":")
    return getattr(importlib.import_module(module), func)(ref.root, ref.layout, **kwargs)


def find_project_root(start: str | Path = ".") -> Path | None:
    """The nearest folder at or above ``start`` holding ``conf/base`` (a Kedro project root)."""
    here = Path(start).expanduser().resolve()
    for folder in (here, *here.parents):
        if (folder / "conf" / "base").is_dir():
            return folder
    return None


def normalize_db_url(url: str, root: str | Path) -> str:
    """``url`` with a relative SQLite file path made absolute against ``root``."""
    parsed = sa.make_url(url)
    db = parsed.database
    if parsed.get_backend_name() != "sqlite" or not db or db == ":memory:":
        return url
    if db.startswith("file:") or Path(db).expanduser().is_absolute():
        return url
    absolute = (Path(root) / db).resolve().as_posix()
    return parsed.set(database=absolute).render_as_string(hide_password=False)


def normalize_credentials(creds: Mapping[str, Any], root: str | Path) -> dict[str, Any]:
    """Credentials with every ``con`` URL passed through :func:`normalize_db_url`."""
    out = copy.deepcopy(dict(creds))
    for entry in out.values():
        if isinstance(entry, dict) and isinstance(entry.get("con"), str):
            entry["con"] = normalize_db_url(entry["con"], root)
    return out


def absolute_paths(conf: Any, root: Path) -> Any:
    """Catalog configuration with relative ``path``/``filepath``/``filename`` values under
    ``root`` (Kedro does the same before building a session's catalog)."""
    if isinstance(conf, dict):
        out = {}
        for k, v in conf.items():
            if (
                k in PATH_KEYS
                and isinstance(v, str)
                and "://" not in v
                and not Path(v).is_absolute()
            ):
                out[k] = (root / v).as_posix()
            else:
                out[k] = absolute_paths(v, root)
        return out
    return conf


def _loader(root: Path, env: str | None) -> Any:
    from statarb.config_loader import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS

    args = dict(CONFIG_LOADER_ARGS)
    run_env = env or args.get("default_run_env")
    if run_env and not (root / "conf" / run_env).is_dir():
        if env is not None:  # an environment asked for must exist, as for `kedro run --env`
            raise StorageError(f"no environment {env!r}: {root / 'conf' / env} does not exist")
        args["default_run_env"] = args.get("base_env", "base")  # no conf/local: base alone
    with warnings.catch_warnings():  # omegaconf deprecation noise from Kedro internals
        warnings.simplefilter("ignore", UserWarning)
        return CONFIG_LOADER_CLASS(conf_source=str(root / "conf"), env=env, **args)


@dataclass
class Project:
    """The resolved configuration of one project environment (see module docstring)."""

    root: Path
    env: str | None
    catalog_conf: dict[str, Any]
    credentials: dict[str, Any]
    _loader: Any = field(repr=False, default=None)

    @cached_property
    def params(self) -> dict[str, Any]:
        """The environment's parameters (``parameters*.yml``), unvalidated."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return dict(self._loader["parameters"])

    def db_url(self, key: str = "db") -> str:
        """URL of credentials ``key`` (default ``db``), else ``$STATARB_DB_URL``/the default."""
        url = resolve_db_url(self.credentials.get(key))
        return normalize_db_url(url, self.root)

    def stores(self) -> dict[str, StoreRef]:
        """Every columnar catalog entry, by catalog name (sorted)."""
        out: dict[str, StoreRef] = {}
        for name, entry in sorted(self.catalog_conf.items()):
            if not isinstance(entry, dict) or entry.get("type") not in STORE_TYPES:
                continue
            out[name] = StoreRef(
                name=name,
                root=Path(entry["path"]),
                layout=str(entry["layout"]),
                tier=STORE_TYPES[entry["type"]][0],
                source=entry.get("source"),
            )
        return out

    def store(self, name: str) -> StoreRef:
        """The columnar entry ``name`` (error naming the known ones)."""
        stores = self.stores()
        if name not in stores:
            raise StorageError(
                f"catalog of {self.root} (env {self.env or 'local'}): no columnar entry "
                f"{name!r}; known: {sorted(stores)}"
            )
        return stores[name]

    def file_entries(self) -> dict[str, Path]:
        """Every catalog entry stored in files or folders (``path``/``filepath``, the backtest
        run's ``equity_path``), by name."""
        out = {}
        for name, entry in sorted(self.catalog_conf.items()):
            if isinstance(entry, dict):
                for key in ("path", "filepath", "equity_path"):
                    if isinstance(entry.get(key), str) and "://" not in entry[key]:
                        out[name] = Path(entry[key])
                        break
        return out

    def entry_path(self, name: str) -> Path:
        """``path``/``filepath`` of catalog entry ``name``."""
        entries = self.file_entries()
        if name not in entries:
            raise StorageError(f"catalog of {self.root}: no file-based entry {name!r}")
        return entries[name]


def _read(loader: Any, key: str, root: Path) -> dict[str, Any]:
    """One configuration group; absent files give ``{}``, broken ones a :class:`StorageError`."""
    from kedro.config import MissingConfigException

    try:
        return dict(loader[key])
    except MissingConfigException:
        return {}
    except Exception as exc:  # a broken file must be reported, not hidden
        raise StorageError(f"cannot read the {key} under {root / 'conf'}: {exc}") from exc


def load_project(project: str | Path = ".", env: str | None = None) -> Project:
    """Resolve the Kedro project at or above ``project`` for environment ``env``.

    ``env=None`` means ``$KEDRO_ENV`` or, without it, the default run environment (``local``).
    Raises :class:`ProjectNotFound` outside a project.
    """
    root = find_project_root(project)
    if root is None:
        raise ProjectNotFound(
            f"no Kedro project at or above {Path(project).resolve()} (no conf/base): run from "
            "the project folder or pass --project"
        )
    env = env or os.environ.get("KEDRO_ENV") or None
    loader = _loader(root, env)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        catalog = _read(loader, "catalog", root)
        creds = _read(loader, "credentials", root)
    return Project(
        root=root,
        env=env,
        catalog_conf=absolute_paths(catalog, root),
        credentials=normalize_credentials(creds, root),
        _loader=loader,
    )


def default_db_url(project: str | Path = ".", env: str | None = None) -> str:
    """The project's ``db`` URL, or outside a project ``$STATARB_DB_URL``/``DEFAULT_DB_URL``."""
    try:
        return load_project(project, env).db_url()
    except ProjectNotFound:
        return resolve_db_url() or DEFAULT_DB_URL
