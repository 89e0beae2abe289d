"""messaging: posting to connected clients at run time (``send_message`` and broadcasts).

The Management API authorizes each post on the connection's own ARN. A queryset broadcast
logs a denial as a warning and carries on, so a missing grant here goes unnoticed.
"""

from wsgw_doctor.catalog import Feature, Origin, Phase, Requirement

FEATURE = Feature(
    name="messaging",
    title="Send messages",
    summary="WebSocketSession.send_message and queryset broadcasts post to connections.",
    phase=Phase.RUNTIME,
    default=True,
    requirements=(
        Requirement(
            action="execute-api:ManageConnections",
            resource=(
                "arn:{partition}:execute-api:{region}:{account}:"
                "{api_id}/{stage}/POST/@connections/{connection_id}"
            ),
            operation="apigatewaymanagementapi.PostToConnection",
            reason="posts a message to one connected client",
            origin=Origin.LIBRARY,
        ),
    ),
)
