"""Where things are: the project root, pipeline/config.json, service/config.json, the working
directory of the notebook's code and the state directory (var/).

Environment overrides:
- ``NB2PROD_WORKDIR``: run the steps in this directory instead of config "workdir" (e.g. a
  directory holding another copy of the data the notebook reads with relative paths);
- ``NB2PROD_STATE_DIR``: write quarantine files and reports here instead of var/.
Relative values are taken from the directory the command was started in.
"""
import json
import os
from pathlib import Path
from typing import Any, Dict, Optional

from pipeline.framework import UsageError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_SCHEMA = "nb2prod.pipeline-config/1"


def _read_json(path: Path, what: str) -> Any:
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise UsageError("%s is missing (%s): regenerate the project with nb2prod scaffold"
                         % (path, what))
    except ValueError as error:
        raise UsageError("%s is not valid JSON (%s): %s" % (path, what, error))


def load_config(root: Path = PROJECT_ROOT) -> Dict[str, Any]:
    """pipeline/config.json, checked for the keys the runner relies on."""
    path = root / "pipeline" / "config.json"
    config = _read_json(path, "the pipeline configuration")
    if not isinstance(config, dict):
        raise UsageError("%s must hold a JSON object" % path)
    if config.get("schema") != CONFIG_SCHEMA:
        raise UsageError("%s has schema %r; this runner reads %r: regenerate the project with "
                         "nb2prod scaffold" % (path, config.get("schema"), CONFIG_SCHEMA))
    for key, kind in (("params", dict), ("validation", list)):
        if not isinstance(config.get(key, kind()), kind):
            raise UsageError("%s: %r must be a JSON %s" % (path, key, "object" if kind is dict else "array"))
    for entry in config.get("validation", []):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("step", "frame", "schema")):
            raise UsageError('%s: each "validation" entry needs "step", "frame" and "schema" '
                             "(strings), not %r" % (path, entry))
    return config


def load_service_config(root: Path = PROJECT_ROOT) -> Optional[Dict[str, Any]]:
    """service/config.json, or None when the project has no service configuration."""
    path = root / "service" / "config.json"
    if not path.exists():
        return None
    config = _read_json(path, "the service configuration")
    if not isinstance(config, dict):
        raise UsageError("%s must hold a JSON object" % path)
    return config


def workdir(config: Dict[str, Any], root: Path = PROJECT_ROOT) -> Path:
    """The directory the notebook's relative paths (data files, model output) start from."""
    override = os.environ.get("NB2PROD_WORKDIR")
    path = Path(override).resolve() if override else (root / config.get("workdir", ".")).resolve()
    if not path.is_dir():
        source = "NB2PROD_WORKDIR" if override else 'pipeline/config.json "workdir"'
        raise UsageError("the working directory %s (from %s) does not exist: it is where the "
                         "notebook's relative paths (e.g. its data files) start from" % (path, source))
    return path


def state_dir(root: Path = PROJECT_ROOT) -> Path:
    """var/ of the project, or NB2PROD_STATE_DIR."""
    override = os.environ.get("NB2PROD_STATE_DIR")
    return Path(override).resolve() if override else root / "var"


def reports_dir(root: Path = PROJECT_ROOT) -> Path:
    return state_dir(root) / "reports"


def quarantine_dir(root: Path = PROJECT_ROOT) -> Path:
    return state_dir(root) / "quarantine"


def run_summary_path(root: Path = PROJECT_ROOT) -> Path:
    return reports_dir(root) / "pipeline-run.json"


def shown(path: Path, root: Path = PROJECT_ROOT) -> str:
    """A path as messages show it: relative to the project root when inside it."""
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
