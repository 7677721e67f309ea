"""Claims as Keycloak or Entra ID send them: names, email, and the user's Django groups as ``groups``."""

from oauth2_provider.oauth2_validators import OAuth2Validator

from tests.oidc_provider import state


class GroupsValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "openid"}

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "name": user.get_full_name(),
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        if state.ID_TOKEN_AUDIENCE:  # the test asked for tokens issued to another of our clients
            claims["aud"] = state.ID_TOKEN_AUDIENCE
        claims.update(state.ID_TOKEN_CLAIMS)  # how the person authenticated, as the test set it
        return claims, expiration
