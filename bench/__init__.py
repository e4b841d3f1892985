"""shardmem's load benchmark: replays the ChitChat corpus as concurrent agents.

Run it as ``shardmem bench`` (or ``python -m bench bench``); see ``shardmem bench --help``.
The replay talks to a :class:`Target` (the operations of an agent's memory), so the same
workload can measure the engine and, later, its peers. ``shardmem bench durable``
measures group commit; ``shardmem inspect`` and ``shardmem compact`` handle a durable
engine's data directory.
"""

from bench._cli import main as main
from bench._compact import CompactOutcome as CompactOutcome
from bench._compact import compact_data_dir as compact_data_dir
from bench._data_dirs import DataDirRefused as DataDirRefused
from bench._dataset import Conversation as Conversation
from bench._dataset import DatasetError as DatasetError
from bench._dataset import Turn as Turn
from bench._dataset import default_dataset_path as default_dataset_path
from bench._dataset import load_chitchat as load_chitchat
from bench._durable import DURABLE_SCHEMA as DURABLE_SCHEMA
from bench._durable import DurableOptions as DurableOptions
from bench._durable import DurableResult as DurableResult
from bench._durable import Goal as Goal
from bench._durable import VariantResult as VariantResult
from bench._durable import run_durable as run_durable
from bench._durable_report import durable_tables as durable_tables
from bench._engine_target import EngineTarget as EngineTarget
from bench._engine_target import open_engine_target as open_engine_target
from bench._inspect_report import INSPECT_SCHEMA as INSPECT_SCHEMA
from bench._inspect_report import inspect_table as inspect_table
from bench._inspect_report import inspect_to_dict as inspect_to_dict
from bench._latency import LatencyRecorder as LatencyRecorder
from bench._latency import OpLatency as OpLatency
from bench._monitor import GcPauses as GcPauses
from bench._monitor import LoopLagMonitor as LoopLagMonitor
from bench._monitor import peak_rss_bytes as peak_rss_bytes
from bench._report import build_tables as build_tables
from bench._report import format_latency as format_latency
from bench._report import render_report as render_report
from bench._report import write_json as write_json
from bench._results import RESULT_SCHEMA as RESULT_SCHEMA
from bench._results import BenchOptions as BenchOptions
from bench._results import BenchResult as BenchResult
from bench._results import DatasetInfo as DatasetInfo
from bench._results import DurabilityInfo as DurabilityInfo
from bench._results import ProcessInfo as ProcessInfo
from bench._runner import TARGETS as TARGETS
from bench._runner import run_bench as run_bench
from bench._target import MemoryWrite as MemoryWrite
from bench._target import PipelinedTarget as PipelinedTarget
from bench._target import Target as Target
from bench._target import TargetCounts as TargetCounts
from bench._workload import OPERATIONS as OPERATIONS
from bench._workload import WRITE_OPERATIONS as WRITE_OPERATIONS
from bench._workload import WorkloadConfig as WorkloadConfig
from bench._workload import WorkloadTally as WorkloadTally
from bench._workload import keywords as keywords
from bench._workload import replay_conversation as replay_conversation
from bench._workload import run_agents as run_agents
from bench._workload import summary_text as summary_text

__all__ = [
    "DURABLE_SCHEMA",
    "INSPECT_SCHEMA",
    "OPERATIONS",
    "RESULT_SCHEMA",
    "TARGETS",
    "WRITE_OPERATIONS",
    "BenchOptions",
    "BenchResult",
    "CompactOutcome",
    "Conversation",
    "DataDirRefused",
    "DatasetError",
    "DatasetInfo",
    "DurabilityInfo",
    "DurableOptions",
    "DurableResult",
    "EngineTarget",
    "Goal",
    "GcPauses",
    "LatencyRecorder",
    "LoopLagMonitor",
    "OpLatency",
    "ProcessInfo",
    "TargetCounts",
    "MemoryWrite",
    "PipelinedTarget",
    "Target",
    "Turn",
    "VariantResult",
    "WorkloadConfig",
    "WorkloadTally",
    "build_tables",
    "compact_data_dir",
    "default_dataset_path",
    "durable_tables",
    "format_latency",
    "inspect_table",
    "inspect_to_dict",
    "keywords",
    "load_chitchat",
    "main",
    "open_engine_target",
    "peak_rss_bytes",
    "render_report",
    "replay_conversation",
    "run_agents",
    "run_bench",
    "run_durable",
    "summary_text",
    "write_json",
]
