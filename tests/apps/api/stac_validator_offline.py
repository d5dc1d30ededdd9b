"""Run the official stac-api-validator with JSON schemas read from the shared offline copy.

stac-validator (used by stac-api-validator) downloads schemas through ``fetch_and_parse_file``; this wraps
it so that URLs of schema hosts are read from ``STAC_SCHEMAS_DIR`` (laid out by URL, see its README) and
everything else (the server under test, on loopback) is fetched as usual. Usage:
``python -m tests.apps.api.stac_validator_offline --root-url ... --conformance core ...``
"""

import json
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import stac_validator.utilities as utilities
import stac_validator.validate as validate

SCHEMAS = Path(os.environ.get("STAC_SCHEMAS_DIR", Path(__file__).resolve().parents[4] / "shared" / "stac-schemas"))
_original = utilities.fetch_and_parse_file


def fetch_offline(input_path: str, headers: dict | None = None) -> dict:
    url = urlparse(str(input_path))
    if url.scheme in ("http", "https") and url.hostname not in ("127.0.0.1", "localhost"):
        local = SCHEMAS / url.hostname / url.path.lstrip("/")
        if not local.is_file():
            raise FileNotFoundError(f"schema {input_path} is not in the offline copy {SCHEMAS}")
        return json.loads(local.read_text())
    return _original(input_path, headers)


def main() -> None:
    utilities.fetch_and_parse_file = fetch_offline
    validate.fetch_and_parse_file = fetch_offline
    try:
        import stac_check.api_lint as api_lint

        api_lint.fetch_and_parse_file = fetch_offline
    except ImportError:
        pass
    from stac_api_validator.__main__ import main as cli

    sys.exit(cli())


if __name__ == "__main__":
    main()
