"""The ``storage`` parameters section (``conf/base/parameters_storage.yml``), strictly validated.

Registered in :data:`statarb.config.registry.SECTIONS`; defaults live only in the YAML.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from statarb.config.strict import StrictModel


class BatchParams(StrictModel):
    """Versioned reprocessing (spec §9.3; ``docs/storage-columnar.md``, "Batches")."""

    mode: Literal["overwrite", "append"]
    """``overwrite``: writes merge/replace on the key (one version); ``append``: every versioned
    catalog entry a run writes gets the run's new ``batch_id`` and earlier versions stay."""
    note: str
    """Free text stored in ``data_batches.note`` for an ``append`` run."""
    pin: dict[str, int]
    """Catalog entry -> batch id: loads of that entry see the data as of that batch."""


class BackupParams(StrictModel):
    """``statarb backup`` retention (spec §9.4)."""

    keep_last: int = Field(ge=1)
    """Backup sets kept in the destination; older ones (and objects only they use) are removed."""


class StorageParams(StrictModel):
    """The ``storage`` section."""

    batches: BatchParams
    backup: BackupParams
