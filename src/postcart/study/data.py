"""Where the study's data come from: a registry database, or the built-in synthetic registry.

* :func:`default_registry` returns the built-in synthetic registry (``postcart.synth``, default
  size and seed), stored as a SQLite registry in a cache folder on first use: generated,
  imported through the normal validated import (``postcart.registry.import_extract``), then
  read back like any registry. Later runs read the cached file.
* :func:`load_study_data` loads a registry (``--db`` URL or the built-in one), derives the
  analysis table (``postcart.endpoints.derive_endpoints``) and describes the source
  (fingerprint, cut-off, endpoint configuration, derivation notes) for the methods section.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from postcart.endpoints import EndpointConfig, EndpointsResult, derive_endpoints
from postcart.registry import RegistryTables, import_extract, load_registry
from postcart.study.results import DataSource
from postcart.study.run import table_fingerprint
from postcart.study.spec import PAPER_STUDY, StudySpec

#: Environment variable naming the cache folder of the built-in synthetic registry.
CACHE_ENV = "POSTCART_CACHE"


def _synth_key(n: int, seed: int) -> str:
    import postcart.synth
    from postcart.synth.parameters import load_parameters

    h = hashlib.sha256(repr(sorted(load_parameters().values.items())).encode())
    # the generator's code is part of the key: a changed model never reuses a stale cache
    for src in sorted(Path(postcart.synth.__file__).parent.glob("*.py")):
        h.update(src.read_bytes())
    return f"synthetic-n{n}-seed{seed}-{h.hexdigest()[:10]}"


def cache_dir() -> Path:
    """``$POSTCART_CACHE`` or ``.postcart/`` in the working directory."""
    return Path(os.environ.get(CACHE_ENV) or ".postcart").expanduser().resolve()


def default_registry_path(*, n: int | None = None, seed: int | None = None) -> Path:
    """Path of the cached built-in synthetic registry (SQLite)."""
    from postcart.synth.generate import DEFAULT_N, DEFAULT_SEED

    n = DEFAULT_N if n is None else n
    seed = DEFAULT_SEED if seed is None else seed
    return cache_dir() / f"{_synth_key(n, seed)}.sqlite"


def default_registry(*, n: int | None = None, seed: int | None = None) -> tuple[RegistryTables, Path, int]:
    """The built-in synthetic registry, created on first use. Returns (tables, sqlite path, seed)."""
    from postcart.synth.generate import DEFAULT_N, DEFAULT_SEED, generate_registry

    n = DEFAULT_N if n is None else n
    seed = DEFAULT_SEED if seed is None else seed
    path = default_registry_path(n=n, seed=seed)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".synth-") as tmp:
            reg = generate_registry(n, seed=seed)
            folder = reg.write(Path(tmp) / "extract")
            db = Path(tmp) / "registry.sqlite"
            import_extract(folder, str(db))
            os.replace(db, path)
    return load_registry(str(path)), path, seed


def registry_fingerprint(tables: RegistryTables) -> str:
    """sha256 over the registry tables (each table's content hash, in schema order)."""
    from postcart.registry import TABLES

    h = hashlib.sha256()
    for spec in TABLES:
        frame = tables.table(spec.name)
        h.update(spec.name.encode())
        h.update(table_fingerprint(frame).encode())
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class StudyData:
    """The analysis table and everything the methods section must say about where it came from."""

    endpoints: EndpointsResult
    source: DataSource
    spec: StudySpec


def _flat(d: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        if isinstance(v, dict) and k not in ("component_groups", "group_classes", "timing_groups"):
            out.extend((f"{k}.{kk}", vv) for kk, vv in v.items())
        elif k in ("component_groups", "group_classes"):
            out.append((k, f"{len(v)} entries (see docs/endpoints.md)"))
        else:
            out.append((k, v if isinstance(v, int | float | str | bool) or v is None else str(v)))
    return tuple(out)


def spec_for_config(spec: StudySpec, config: EndpointConfig) -> StudySpec:
    """``spec`` with the CRP / ferritin analysis scales of the endpoint configuration."""
    per = {"d0_crp_mg_l": float(config.crp_scale_mg_l), "d0_ferritin_ug_l": float(config.ferritin_scale_ug_l)}

    def fix(cov: Any) -> Any:
        if cov.kind == "continuous" and cov.column in per and cov.per != per[cov.column]:
            unit = "mg/L" if "crp" in cov.column else "ug/L"
            name = "CRP" if "crp" in cov.column else "Ferritin"
            return replace(cov, per=per[cov.column], label=f"{name} (per {per[cov.column]:g} {unit})")
        return cov

    cox = tuple(replace(c, covariates=tuple(fix(v) for v in c.covariates)) for c in spec.cox)
    return replace(spec, cox=cox)


def load_study_data(
    db: str | None = None,
    *,
    cutoff: dt.date | None = None,
    config: EndpointConfig | None = None,
    spec: StudySpec = PAPER_STUDY,
) -> StudyData:
    """Load a registry (``db`` URL/path, or the built-in synthetic one) and derive the analysis table."""
    seed: int | None = None
    if db is None:
        tables, path, seed = default_registry()
        description = f"built-in synthetic DESCAR-T-like registry ({path.name})"
    else:
        tables = load_registry(db)
        description = f"registry database {_redact(db)}"
    cfg = config or EndpointConfig()
    endpoints = derive_endpoints(tables, cutoff=cutoff, config=cfg)
    source = DataSource(
        description=description,
        fingerprint=registry_fingerprint(tables),
        cutoff=None if endpoints.cutoff is None else endpoints.cutoff.date().isoformat(),
        seed=seed,
        endpoint_config=_flat(cfg.as_dict()),
        notes=_flat(endpoints.notes.as_dict()),
    )
    return StudyData(endpoints, source, spec_for_config(spec, cfg))


def _redact(url: str) -> str:
    """A database URL without its password."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    cred, host = rest.rsplit("@", 1)
    user = cred.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def clear_cache() -> None:
    """Delete the cached synthetic registries."""
    d = cache_dir()
    for p in d.glob("synthetic-n*.sqlite"):
        p.unlink()
    shutil.rmtree(d / "tmp", ignore_errors=True)
