"""Accounts: register, get a token, log out. Tokens are stored hashed (django-rest-knox)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from profiles.api.strict import StrictInputMixin
from profiles.api.throttles import AnonThrottle, SignupThrottle, network_of
from profiles.services.accounts import contributor_for, user_register
from profiles.services.logins import login_authenticate
from profiles.services.tokens import token_create


class RegisterSerializer(StrictInputMixin, serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class CredentialsSerializer(StrictInputMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()


def _token_body(user: Any) -> dict[str, Any]:
    instance, token = token_create(user=user)
    return {"token": token, "expiry": instance.expiry, "username": user.get_username()}


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [AnonThrottle, SignupThrottle]

    @extend_schema(request=RegisterSerializer, responses={201: AccountSerializer})
    def post(self, request: Request) -> Response:
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        network = network_of(SignupThrottle().get_ident(request))
        user = user_register(**data.validated_data, signup_network=network)
        return Response(AccountSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        request=CredentialsSerializer,
        responses={
            200: inline_serializer(
                "Token",
                {
                    "token": serializers.CharField(),
                    "expiry": serializers.DateTimeField(),
                    "username": serializers.CharField(),
                },
            ),
            401: OpenApiResponse(description="unknown username or wrong password (`invalid_credentials`)"),
            429: OpenApiResponse(
                description="too many failed logins for this username or client network (`login_locked`); "
                "the Retry-After header says when to try again"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = login_authenticate(request=request, **data.validated_data)
        contributor_for(user)
        return Response(_token_body(user))


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
