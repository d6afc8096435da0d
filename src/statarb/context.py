"""The project's Kedro context: credentials go through the one resolver of the project.

:class:`ProjectContext` differs from :class:`kedro.framework.context.KedroContext` only in that
relative SQLite URLs in ``credentials.yml`` are made absolute against the project root
(:func:`statarb.storage.resolver.normalize_credentials`), exactly as the ``statarb`` commands
resolve them, so ``kedro run``, ``kedro ipython`` and the commands open the same database file
wherever they are started.
"""

from __future__ import annotations

from typing import Any

from kedro.framework.context import KedroContext

from statarb.storage.resolver import normalize_credentials


class ProjectContext(KedroContext):
    """``KedroContext`` whose credentials are normalised by the project resolver."""

    def _get_config_credentials(self) -> dict[str, Any]:
        return normalize_credentials(super()._get_config_credentials(), self.project_path)
