"""The manufacturer side of the API: members, domain claims, pinned certificates, signed
profiles, statements, discrepancies and the record of decisions. Thin: every write is one
service call, every read one selector."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from profiles.api.pagination import LimitOffsetPagination
from profiles.api.parsers import PayloadTooLarge, RawJSONParser
from profiles.api.strict import StrictInputMixin
from profiles.errors import DomainError, problem
from profiles.models import (
    DeviceModel,
    Discrepancy,
    FlowStatement,
    ManufacturerDomain,
    ManufacturerMember,
    SignedProfile,
    SigningCertificate,
)
from profiles.selectors import manufacturers as select
from profiles.services import certificates, domain_claims, manufacturers, mirroring, signed_profiles, statements
from profiles.services.accounts import contributor_for


def _actor(request: Request) -> Any:
    return contributor_for(request.user) if request.user.is_authenticated else None


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- serializers ----------------------------------------------------------------------------


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="contributor.user.username")
    added_by = serializers.CharField(source="added_by.user.username", default=None, allow_null=True)

    class Meta:
        model = ManufacturerMember
        fields = ["username", "added_by", "created_at"]


class MemberInSerializer(StrictInputMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150)


class ClaimSerializer(serializers.ModelSerializer):
    dns_name = serializers.SerializerMethodField()
    dns_value = serializers.CharField(source="token")
    well_known_url = serializers.SerializerMethodField()

    class Meta:
        model = ManufacturerDomain
        fields = ["id", "domain", "method", "token", "dns_name", "dns_value", "well_known_url", "verified_at",
                  "checked_at", "last_error", "created_at"]  # fmt: skip

    def get_dns_name(self, claim: ManufacturerDomain) -> str:
        return domain_claims.dns_name(claim)

    def get_well_known_url(self, claim: ManufacturerDomain) -> str:
        return domain_claims.well_known_url(claim)


class ClaimInSerializer(StrictInputMixin, serializers.Serializer):
    domain = serializers.CharField(max_length=253)
    method = serializers.ChoiceField(choices=ManufacturerDomain.Method.choices)


class CertificateSerializer(serializers.ModelSerializer):
    pinned_by = serializers.CharField(source="pinned_by.user.username", default=None, allow_null=True)
    pem = serializers.SerializerMethodField()

    class Meta:
        model = SigningCertificate
        fields = ["id", "subject", "fingerprint", "not_before", "not_after", "pinned_by", "created_at", "retired_at",
                  "revoked_at", "pem"]  # fmt: skip

    def get_pem(self, row: SigningCertificate) -> str:
        body = base64.encodebytes(bytes(row.der)).decode("ascii")
        return f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n"


class CertificateInSerializer(StrictInputMixin, serializers.Serializer):
    pem = serializers.CharField(max_length=20000, trim_whitespace=False)
    rotation_signature = serializers.CharField(
        required=False, allow_blank=True, max_length=40000,
        help_text="base64 of a detached DER CMS signature over the new certificate's DER bytes, by a pinned key",
    )  # fmt: skip


class SignedProfileSerializer(serializers.ModelSerializer):
    manufacturer = serializers.CharField(source="manufacturer.slug")
    certificate = serializers.IntegerField(source="certificate_id")
    uploaded_by = serializers.CharField(source="uploaded_by.user.username", default=None, allow_null=True)
    state = serializers.SerializerMethodField()
    mud_download = serializers.SerializerMethodField()
    signature_download = serializers.SerializerMethodField()

    class Meta:
        model = SignedProfile
        fields = ["id", "manufacturer", "device_model", "firmware", "sha256", "certificate", "signer_subject",
                  "uploaded_by", "state", "mud_url", "signature_url", "cache_validity_hours", "fetched_at",
                  "fetch_error", "created_at", "withdrawn_at", "superseded_by", "mud_download",
                  "signature_download"]  # fmt: skip

    def get_state(self, row: SignedProfile) -> str:
        if row.withdrawn_at is not None:
            return "withdrawn"
        if row.superseded_by_id is not None:
            return "superseded"
        return "revoked" if row.certificate.revoked_at is not None else "active"

    def get_mud_download(self, row: SignedProfile) -> str:
        return f"/api/v1/manufacturers/{row.manufacturer.slug}/profiles/{row.pk}/mud/"

    def get_signature_download(self, row: SignedProfile) -> str:
        return f"/api/v1/manufacturers/{row.manufacturer.slug}/profiles/{row.pk}/signature/"


class SignedProfileInSerializer(StrictInputMixin, serializers.Serializer):
    device_model = serializers.PrimaryKeyRelatedField(queryset=DeviceModel.objects.all())
    mud = serializers.FileField(required=False, help_text="the MUD file, exactly as signed")
    signature = serializers.FileField(required=False, help_text="its detached CMS signature, DER")
    mud_url = serializers.URLField(required=False, max_length=500, help_text="instead of the files: mirror this URL")
    firmware = serializers.ListField(child=serializers.CharField(max_length=100, allow_blank=True), required=False,
                                     default=list, help_text="covered firmware versions; none means all")  # fmt: skip


class StatementSerializer(serializers.ModelSerializer):
    flow = serializers.CharField(source="flow.key")
    manufacturer = serializers.CharField(source="manufacturer.slug", read_only=True)
    made_by = serializers.CharField(source="made_by.user.username", default=None, read_only=True, allow_null=True)

    class Meta:
        model = FlowStatement
        fields = ["id", "manufacturer", "device_model", "flow", "verdict", "firmware", "comment", "made_by",
                  "created_at", "withdrawn_at"]  # fmt: skip


class StatementInSerializer(StrictInputMixin, serializers.Serializer):
    flow = serializers.CharField(max_length=2000, help_text="the flow's canonical key")
    verdict = serializers.ChoiceField(choices=FlowStatement.Verdict.choices)
    firmware = serializers.ListField(child=serializers.CharField(max_length=100, allow_blank=True), required=False,
                                     default=list)  # fmt: skip
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class DiscrepancySerializer(serializers.ModelSerializer):
    flow = serializers.CharField(source="flow.key")
    flow_spec = serializers.JSONField(source="flow.spec")
    manufacturer = serializers.CharField(source="device_model.manufacturer.slug")
    responded_by = serializers.CharField(source="responded_by.user.username", default=None, allow_null=True)

    class Meta:
        model = Discrepancy
        fields = ["id", "device_model", "manufacturer", "scope", "flow", "flow_spec", "profile", "state", "comment",
                  "responded_by", "responded_at", "first_seen", "cleared_at"]  # fmt: skip


class ResponseInSerializer(StrictInputMixin, serializers.Serializer):
    state = serializers.ChoiceField(choices=Discrepancy.State.choices)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ManufacturerDecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    actor = serializers.CharField(source="actor.user.username", default=None, allow_null=True)
    subject = serializers.CharField()
    as_moderator = serializers.BooleanField()
    created_at = serializers.DateTimeField()


# --- views ----------------------------------------------------------------------------------

# Conflicts the services answer (the error body is added by profiles.api.schema).
_TAKEN = OpenApiResponse(description="the domain is verified by another manufacturer (`domain_taken`)")
_WITHDRAWN_CERTIFICATE = OpenApiResponse(
    description="this certificate was rotated out or revoked (`certificate_withdrawn`)"
)


class _ManufacturerView(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    # Declared (not only used in `page`) so that the lists are bounded like every other list
    # and the OpenAPI document describes the page they answer, with its limit and offset.
    pagination_class = LimitOffsetPagination

    def manufacturer(self, slug: str) -> Any:
        return manufacturers.manufacturer_get(slug=slug)

    def page(self, request: Request, rows: Any, serializer: type[serializers.BaseSerializer]) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(serializer(page, many=True).data)


class MembersView(_ManufacturerView):
    @extend_schema(responses={200: MemberSerializer(many=True)})
    def get(self, request: Request, slug: str) -> Response:
        return self.page(request, select.members_list(manufacturer=self.manufacturer(slug)), MemberSerializer)

    @extend_schema(request=MemberInSerializer, responses={201: MemberSerializer, 200: MemberSerializer})
    def post(self, request: Request, slug: str) -> Response:
        values = _valid(MemberInSerializer, request.data)
        member, created = manufacturers.member_add(
            actor=_actor(request), manufacturer=self.manufacturer(slug), username=values["username"]
        )
        return Response(MemberSerializer(member).data, status=status.HTTP_201_CREATED if created else 200)


class MemberView(_ManufacturerView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str, username: str) -> Response:
        manufacturers.member_remove(actor=_actor(request), manufacturer=self.manufacturer(slug), username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClaimsView(_ManufacturerView):
    """Claims hold their tokens: only the manufacturer's members list them."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: ClaimSerializer(many=True)})
    def get(self, request: Request, slug: str) -> Response:
        manufacturer = self.manufacturer(slug)
        manufacturers.member_required(actor=_actor(request), manufacturer=manufacturer)
        return self.page(request, select.claims_list(manufacturer=manufacturer), ClaimSerializer)

    @extend_schema(request=ClaimInSerializer, responses={201: ClaimSerializer, 200: ClaimSerializer, 409: _TAKEN})
    def post(self, request: Request, slug: str) -> Response:
        values = _valid(ClaimInSerializer, request.data)
        claim, created = domain_claims.claim_create(
            actor=_actor(request), manufacturer=self.manufacturer(slug), domain=values["domain"],
            method=values["method"],
        )  # fmt: skip
        return Response(ClaimSerializer(claim).data, status=status.HTTP_201_CREATED if created else 200)


class ClaimVerifyView(_ManufacturerView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: ClaimSerializer, 409: _TAKEN})
    def post(self, request: Request, slug: str, pk: int) -> Response:
        claim = get_object_or_404(ManufacturerDomain, pk=pk, manufacturer=self.manufacturer(slug))
        return Response(ClaimSerializer(domain_claims.claim_verify(actor=_actor(request), claim=claim)).data)


class CertificatesView(_ManufacturerView):
    @extend_schema(responses={200: CertificateSerializer(many=True)})
    def get(self, request: Request, slug: str) -> Response:
        rows = select.certificates_list(manufacturer=self.manufacturer(slug))
        return self.page(request, rows, CertificateSerializer)

    @extend_schema(
        request=CertificateInSerializer,
        responses={201: CertificateSerializer, 200: CertificateSerializer, 409: _WITHDRAWN_CERTIFICATE},
    )
    def post(self, request: Request, slug: str) -> Response:
        values = _valid(CertificateInSerializer, request.data)
        rotation = None
        if values.get("rotation_signature"):
            try:
                rotation = base64.b64decode(values["rotation_signature"], validate=True)
            except (binascii.Error, ValueError):
                raise DomainError(
                    "invalid_input", "The rotation signature is not base64.",
                    problems=[problem("not_base64", "/rotation_signature", "send the DER signature as base64")],
                ) from None  # fmt: skip
        pinned, created = certificates.certificate_pin(
            actor=_actor(request), manufacturer=self.manufacturer(slug), pem=values["pem"], rotation_signature=rotation
        )
        return Response(CertificateSerializer(pinned).data, status=status.HTTP_201_CREATED if created else 200)


class CertificateView(_ManufacturerView):
    @extend_schema(responses={200: CertificateSerializer})
    def get(self, request: Request, slug: str, pk: int) -> Response:
        row = get_object_or_404(SigningCertificate, pk=pk, manufacturer=self.manufacturer(slug))
        return Response(CertificateSerializer(row).data)

    @extend_schema(responses={200: CertificateSerializer}, description="Revoke the certificate.")
    def delete(self, request: Request, slug: str, pk: int) -> Response:
        row = get_object_or_404(SigningCertificate, pk=pk, manufacturer=self.manufacturer(slug))
        return Response(
            CertificateSerializer(certificates.certificate_revoke(actor=_actor(request), certificate=row)).data
        )


def _file(values: dict[str, Any], name: str) -> bytes | None:
    upload = values.get(name)
    return upload.read() if upload is not None else None


class ProfilesView(_ManufacturerView):
    parser_classes = [MultiPartParser, RawJSONParser]

    @extend_schema(responses={200: SignedProfileSerializer(many=True)})
    def get(self, request: Request, slug: str) -> Response:
        rows = select.signed_profiles_list(manufacturer=self.manufacturer(slug))
        return self.page(request, rows, SignedProfileSerializer)

    @extend_schema(
        request={"multipart/form-data": SignedProfileInSerializer, "application/json": SignedProfileInSerializer},
        responses={201: SignedProfileSerializer, 200: SignedProfileSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        manufacturer = self.manufacturer(slug)
        # Multipart bodies bypass the JSON parser's limit: the same limit, before anything is read.
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.MUDHUB_MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The body is {declared} bytes; the limit is {settings.MUDHUB_MAX_BODY_BYTES}.")
        data = request.data
        if hasattr(data, "getlist"):  # multipart: `firmware` may repeat
            data = {**{k: data.get(k) for k in data}, "firmware": data.getlist("firmware")}
        values = _valid(SignedProfileInSerializer, data)
        content, signature = _file(values, "mud"), _file(values, "signature")
        actor = _actor(request)
        if values.get("mud_url"):
            if content is not None or signature is not None:
                raise DomainError("invalid_input", "Send the files or a mud_url, not both.", problems=[
                    problem("ambiguous", "/mud_url", "send either `mud` and `signature`, or `mud_url`")])  # fmt: skip
            profile, created = mirroring.signed_profile_mirror(
                actor=actor, manufacturer=manufacturer, device_model=values["device_model"],
                mud_url=values["mud_url"], firmware=values["firmware"],
            )  # fmt: skip
        else:
            missing = [name for name, got in (("mud", content), ("signature", signature)) if got is None]
            if missing:
                raise DomainError("invalid_input", "The MUD file and its signature are both needed.", problems=[
                    problem("required", f"/{name}", f"send `{name}` as a file") for name in missing])  # fmt: skip
            assert content is not None and signature is not None
            profile, created = signed_profiles.signed_profile_upload(
                actor=actor, manufacturer=manufacturer, device_model=values["device_model"], content=content,
                signature=signature, firmware=values["firmware"],
            )  # fmt: skip
        return Response(SignedProfileSerializer(profile).data, status=status.HTTP_201_CREATED if created else 200)


class _ProfileRow(_ManufacturerView):
    def row(self, slug: str, pk: int) -> SignedProfile:
        return get_object_or_404(
            SignedProfile.objects.select_related("manufacturer", "certificate"), pk=pk,
            manufacturer=self.manufacturer(slug),
        )  # fmt: skip


class ProfileView(_ProfileRow):
    @extend_schema(responses={200: SignedProfileSerializer})
    def get(self, request: Request, slug: str, pk: int) -> Response:
        return Response(SignedProfileSerializer(self.row(slug, pk)).data)

    @extend_schema(responses={200: SignedProfileSerializer}, description="Withdraw the profile.")
    def delete(self, request: Request, slug: str, pk: int) -> Response:
        profile = signed_profiles.signed_profile_withdraw(actor=_actor(request), profile=self.row(slug, pk))
        return Response(SignedProfileSerializer(profile).data)


class ProfileMudView(_ProfileRow):
    """The MUD file exactly as received."""

    @extend_schema(
        responses={(200, "application/mud+json"): OpenApiResponse(OpenApiTypes.OBJECT, description="a MUD file")}
    )
    def get(self, request: Request, slug: str, pk: int) -> HttpResponse:
        return HttpResponse(bytes(self.row(slug, pk).mud), content_type="application/mud+json")


class ProfileSignatureView(_ProfileRow):
    """The detached CMS signature exactly as received."""

    @extend_schema(responses={(200, "application/pkcs7-signature"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request: Request, slug: str, pk: int) -> HttpResponse:
        return HttpResponse(bytes(self.row(slug, pk).signature), content_type="application/pkcs7-signature")


class DecisionsView(_ManufacturerView):
    @extend_schema(responses={200: ManufacturerDecisionSerializer(many=True)})
    def get(self, request: Request, slug: str) -> Response:
        rows = select.decisions_list(manufacturer=self.manufacturer(slug))
        return self.page(request, rows, ManufacturerDecisionSerializer)


class ManufacturerDiscrepanciesView(_ManufacturerView):
    @extend_schema(responses={200: DiscrepancySerializer(many=True)})
    def get(self, request: Request, slug: str) -> Response:
        rows = select.discrepancies_list(manufacturer=self.manufacturer(slug), include_cleared=_cleared(request))
        return self.page(request, rows, DiscrepancySerializer)


def _cleared(request: Request) -> bool:
    return request.query_params.get("cleared", "") in ("1", "true", "yes")


class ModelDiscrepanciesView(_ManufacturerView):
    @extend_schema(responses={200: DiscrepancySerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        device_model = get_object_or_404(DeviceModel, pk=pk)
        rows = select.discrepancies_list(device_model=device_model, include_cleared=_cleared(request))
        return self.page(request, rows, DiscrepancySerializer)


class DiscrepancyResponseView(_ManufacturerView):
    @extend_schema(request=ResponseInSerializer, responses={200: DiscrepancySerializer})
    def post(self, request: Request, discrepancy: int, pk: int | None = None, slug: str | None = None) -> Response:
        rows = Discrepancy.objects.select_related("device_model__manufacturer", "flow")
        if pk is not None:
            rows = rows.filter(device_model_id=pk)
        if slug is not None:
            rows = rows.filter(device_model__manufacturer=self.manufacturer(slug))
        row = get_object_or_404(rows, pk=discrepancy)
        values = _valid(ResponseInSerializer, request.data)
        answered = statements.discrepancy_respond(
            actor=_actor(request), discrepancy=row, state=values["state"], comment=values["comment"]
        )
        return Response(DiscrepancySerializer(answered).data)


class StatementsView(_ManufacturerView):
    @extend_schema(responses={200: StatementSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        device_model = get_object_or_404(DeviceModel, pk=pk)
        return self.page(request, select.statements_list(device_model=device_model), StatementSerializer)

    @extend_schema(request=StatementInSerializer, responses={201: StatementSerializer})
    def post(self, request: Request, pk: int) -> Response:
        device_model = get_object_or_404(DeviceModel.objects.select_related("manufacturer"), pk=pk)
        values = _valid(StatementInSerializer, request.data)
        made = statements.statement_make(
            actor=_actor(request), device_model=device_model, flow_key=values["flow"], verdict=values["verdict"],
            firmware=values["firmware"], comment=values["comment"],
        )  # fmt: skip
        return Response(StatementSerializer(made).data, status=status.HTTP_201_CREATED)
