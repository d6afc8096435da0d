"""Former name of :mod:`statarb.storage.parquet_read` (the Parquet read path); importing it gives
that very module, so existing imports and monkeypatches keep working."""

import sys

from statarb.storage import parquet_read

sys.modules[__name__] = parquet_read
