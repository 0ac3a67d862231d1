"""The business's country as a run reads it, for a caller that asks before any run starts.

The upload page's preview reads numbers without a country code as the import will; for that it
asks the configured business once, here, over its own short session.
"""

from __future__ import annotations

from ..config import Config
from ..errors import ServiceRefused
from ..map import PhoneRegion, business_region
from ..signin import TokenSource
from .graph import GraphClient, GraphError, TransportError
from .session import graph_root, new_session, refusal_message


async def business_phone_region(config: Config, tokens: TokenSource) -> PhoneRegion | None:
    """The configured business's country, as a run reads it (for a preview that may sign
    in: the upload page); None when it gives none. Raises what the sign-in or Graph raise."""
    async with new_session(config) as session:
        client = GraphClient(session, graph_root(config), config.graph.version, tokens,
                             timeout=config.limits.timeout)
        try:
            body = (await client.get_business(config.graph.business_id)).body
        except (GraphError, TransportError) as exc:
            raise ServiceRefused(refusal_message(exc, config.graph.business_id,
                                                 client.root)) from None
    return business_region(body if isinstance(body, dict) else {})

