"""postcart.endpoints: the analysis table derived from the registry (docs/endpoints.md)."""

from postcart.endpoints.config import COMPONENT_GROUPS, SALVAGE_CLASSES, EndpointConfig
from postcart.endpoints.dates import EndpointNotes
from postcart.endpoints.derive import TIMING_GROUPS, EndpointsResult, derive_endpoints
from postcart.endpoints.explain import ExplanationResult, TimelineEntry, explain_patient
from postcart.endpoints.flow import FLOW_STEPS, FlowStep, PatientFlow

__all__ = [
    "COMPONENT_GROUPS",
    "FLOW_STEPS",
    "SALVAGE_CLASSES",
    "TIMING_GROUPS",
    "EndpointConfig",
    "EndpointNotes",
    "EndpointsResult",
    "ExplanationResult",
    "TimelineEntry",
    "explain_patient",
    "FlowStep",
    "PatientFlow",
    "derive_endpoints",
]
