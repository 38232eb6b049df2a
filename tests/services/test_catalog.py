"""Resolving the names a submission gives to manufacturers and models, aliases included."""

import pytest

from profiles.models import DeviceModel, DeviceModelAlias, FirmwareVersion, Manufacturer, ManufacturerAlias
from profiles.services.catalog import alias_add, device_model_resolve, manufacturer_resolve

pytestmark = pytest.mark.django_db


def test_a_new_name_makes_a_manufacturer_and_a_model_with_the_unknown_firmware():
    acme = manufacturer_resolve(name="Acme Corp.")
    model = device_model_resolve(manufacturer=acme, name="Cam 1")
    assert (acme.slug, model.slug) == ("acme-corp", "cam-1")
    assert list(FirmwareVersion.objects.filter(device_model=model).values_list("version", flat=True)) == ["unknown"]
    assert manufacturer_resolve(name="ACME corp") == acme
    assert device_model_resolve(manufacturer=acme, name="cam 1") == model
    assert (Manufacturer.objects.count(), DeviceModel.objects.count()) == (1, 1)


def test_a_model_alias_wins_over_a_leftover_model_of_the_same_slug():
    acme = manufacturer_resolve(name="Acme")
    kept = device_model_resolve(manufacturer=acme, name="Indoor Cam 3")
    duplicate = device_model_resolve(manufacturer=acme, name="IC3")
    alias_add(device_model=kept, alias="IC3")  # a moderator merged the duplicate into `kept`
    assert DeviceModel.objects.filter(pk=duplicate.pk).exists()
    assert device_model_resolve(manufacturer=acme, name="ic3") == kept
    # A model with several aliases is still found once, by its own name.
    alias_add(device_model=kept, alias="Cam Three")
    assert device_model_resolve(manufacturer=acme, name="Indoor Cam 3") == kept
    assert device_model_resolve(manufacturer=acme, name="cam three") == kept
    # The leftover has spellings of its own: the alias still wins.
    alias_add(device_model=duplicate, alias="IC 3 Cam")
    alias_add(device_model=duplicate, alias="IC-3 Camera")
    assert device_model_resolve(manufacturer=acme, name="IC3") == kept


def test_a_model_alias_belongs_to_its_manufacturer():
    acme, other = manufacturer_resolve(name="Acme"), manufacturer_resolve(name="Other")
    kept = device_model_resolve(manufacturer=acme, name="Indoor Cam 3")
    alias_add(device_model=kept, alias="IC3")
    theirs = device_model_resolve(manufacturer=other, name="IC3")
    assert theirs != kept
    assert theirs.manufacturer == other
    assert DeviceModelAlias.objects.count() == 1


def test_a_manufacturer_alias_wins_over_a_leftover_manufacturer_of_the_same_slug():
    acme = manufacturer_resolve(name="Acme")
    leftover = manufacturer_resolve(name="Acme Inc")
    ManufacturerAlias.objects.create(manufacturer=acme, slug="acme-inc")
    assert manufacturer_resolve(name="ACME Inc.") == acme
    assert Manufacturer.objects.filter(pk=leftover.pk).exists()
    ManufacturerAlias.objects.create(manufacturer=acme, slug="acme-gmbh")
    assert manufacturer_resolve(name="Acme GmbH") == acme
    for spelling in ("acme-incorporated", "acme-inc-usa"):  # the leftover's own aliases
        ManufacturerAlias.objects.create(manufacturer=leftover, slug=spelling)
    assert manufacturer_resolve(name="Acme Inc") == acme
    assert manufacturer_resolve(name="Acme") == acme
