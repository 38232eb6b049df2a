from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from profiles.errors import DomainError, problem
from profiles.models import Contributor
from profiles.services.groups import merge_signup_network

User = get_user_model()


@transaction.atomic
def user_register(*, username: str, email: str, password: str, signup_network: str = "") -> AbstractBaseUser:
    """Create an account and its Contributor row; every problem is reported at once."""
    problems = []
    if User.objects.filter(username__iexact=username).exists():
        problems.append(problem("username_taken", "/username", "An account with this username exists."))
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        problems.extend(problem("weak_password", "/password", message) for message in exc.messages)
    if problems:
        raise DomainError("invalid_input", f"{len(problems)} problem(s) in the request.", problems=problems)
    user = User.objects.create_user(username=username, email=email, password=password)
    person = Contributor.objects.create(user=user, signup_network=signup_network)
    if signup_network:
        # Accounts from one network are one observer until shown otherwise (CONSENSUS.md).
        merge_signup_network(contributor_id=person.pk, network=signup_network)
    return user


def contributor_for(user: AbstractBaseUser) -> Contributor:
    """The user's Contributor row, created on first use for accounts made outside the API."""
    try:
        return user.contributor  # type: ignore[attr-defined]  # cached once the throttle read it
    except Contributor.DoesNotExist:
        contributor, _ = Contributor.objects.get_or_create(user=user)
        return contributor
