"""A small, generic actor runtime on trio: one owner task per actor, a bounded mailbox.

It knows nothing about memory; ``engine`` builds shards on it.
"""

from actors._actor import Actor as Actor
from actors._actor import ActorRef as ActorRef
from actors._actor import open_actor as open_actor
from actors._actor import start_actor as start_actor
from actors._behaviour import Behaviour as Behaviour
from actors._behaviour import CommittingBehaviour as CommittingBehaviour
from actors._errors import ActorClosed as ActorClosed
from actors._errors import CommitFailed as CommitFailed
from actors._errors import single_leaf as single_leaf
from actors._errors import unwrap_single_error as unwrap_single_error
from actors._gather import gather as gather
from actors._reply import Reply as Reply
from actors._statistics import ActorStatistics as ActorStatistics

__all__ = [
    "Actor",
    "ActorClosed",
    "ActorRef",
    "ActorStatistics",
    "Behaviour",
    "CommittingBehaviour",
    "CommitFailed",
    "Reply",
    "gather",
    "open_actor",
    "single_leaf",
    "start_actor",
    "unwrap_single_error",
]
