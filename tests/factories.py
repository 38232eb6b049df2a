from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from profiles.models import Contributor

# An account old enough for its trust level (CONSENSUS.md: TL1 >= 3 days, TL2 >= 30, TL3 >= 90),
# so tests do not look like a burst of brand-new accounts unless they mean to.
AGE_FOR_LEVEL = {0: 0, 1: 10, 2: 60, 3: 180}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ContributorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contributor
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)

    @factory.post_generation
    def age_days(obj, create, extracted, **kwargs):
        """`age_days=N` backdates the account; by default it is as old as its level needs."""
        days = AGE_FOR_LEVEL[obj.trust_level] if extracted is None else extracted
        if create and days:
            obj.created_at = timezone.now() - timedelta(days=days)
            Contributor.objects.filter(pk=obj.pk).update(created_at=obj.created_at)


class ManufacturerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "profiles.Manufacturer"

    name = factory.Sequence(lambda n: f"Maker {n}")
    slug = factory.Sequence(lambda n: f"maker-{n}")
