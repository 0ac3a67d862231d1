"""How an app role of Microsoft Graph is granted to an identity that has no API permissions page.

A managed identity (and a user-assigned identity used for workload identity federation) is a
service principal without an app registration: the Entra admin center offers no "Grant admin
consent" button for it. An admin assigns the app role to its service principal instead, with
Graph PowerShell or ``az rest``; ``check`` prints the command with the identity's object id.
"""

from __future__ import annotations

# Microsoft Graph's application id: the same in every tenant and national cloud.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
SECRETLESS_MODES = ("managed_identity", "workload_identity")


def app_role_steps(role: str, principal_id: str = "", graph_root: str = "") -> str:
    """One line: which app role to assign to which service principal, and the command."""
    sp = principal_id or "<the identity's object id>"
    root = graph_root or "https://graph.microsoft.com"
    return (
        f"assign Microsoft Graph's app role {role} to the identity's service principal "
        f"(object id {sp}); there is no portal button for a managed identity: Graph PowerShell "
        f"New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId {sp} -PrincipalId {sp} "
        f"-ResourceId <id of the service principal with appId {GRAPH_APP_ID}> -AppRoleId <id "
        f"of {role} in its appRoles>, or az rest --method POST --uri "
        f"{root}/v1.0/servicePrincipals/{sp}/appRoleAssignments with the same three ids "
        "(the manual page 'Sign in without a secret' has both in full)"
    )
