"""The shipped gazetteer is complete and plausible, and the geo helpers behave as priced."""

from __future__ import annotations

import dataclasses

import pytest

from commerce import geo

REGIONS = {
    "Boké": {"Boffa", "Boké", "Fria", "Gaoual", "Koundara"},
    "Conakry": {"Kaloum", "Dixinn", "Matam", "Ratoma", "Matoto"},
    "Faranah": {"Dabola", "Dinguiraye", "Faranah", "Kissidougou"},
    "Kankan": {"Kankan", "Kérouané", "Kouroussa", "Mandiana", "Siguiri"},
    "Kindia": {"Coyah", "Dubréka", "Forécariah", "Kindia", "Télimélé"},
    "Labé": {"Koubia", "Labé", "Lélouma", "Mali", "Tougué"},
    "Mamou": {"Dalaba", "Mamou", "Pita"},
    "Nzérékoré": {"Beyla", "Guéckédou", "Lola", "Macenta", "Nzérékoré", "Yomou"},
}

PENINSULA = {"lat": (9.50, 9.72), "lng": (-13.72, -13.50)}
GUINEA_BOX = {"lat": (7.1, 12.8), "lng": (-15.2, -7.6)}


@pytest.fixture(scope="module")
def g() -> geo.Guinea:
    return geo.guinea()


def _inside(place: geo.Place | geo.Prefecture | geo.Region, box: dict) -> bool:
    (lat_lo, lat_hi), (lng_lo, lng_hi) = box["lat"], box["lng"]
    return lat_lo <= place.lat <= lat_hi and lng_lo <= place.lng <= lng_hi


# --- the data ---------------------------------------------------------------------------


def test_source_is_named(g):
    assert isinstance(g.source, str)
    assert g.source.strip()


def test_eight_regions_with_accented_names(g):
    assert [r.name for r in g.regions] == sorted(REGIONS)
    assert len(g.regions) == 8


def test_33_prefectures_plus_5_conakry_communes(g):
    prefs = g.all_prefectures()
    assert sum(p.kind == "prefecture" for p in prefs) == 33
    communes = [p for p in prefs if p.kind == "commune"]
    assert sorted(p.name for p in communes) == sorted(REGIONS["Conakry"])
    assert all(p.kind in {"prefecture", "commune"} for p in prefs)
    assert g.region_of("Kaloum").name == "Conakry"
    assert all(
        p.kind == "prefecture" for r in g.regions if r.name != "Conakry" for p in r.prefectures
    )


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_each_region_holds_its_prefectures(g, region):
    assert {p.name for p in g.region(region).prefectures} == REGIONS[region]


def test_every_prefecture_has_a_quartier(g):
    assert all(p.quartiers for p in g.all_prefectures())


def test_conakry_communes_list_their_main_quartiers(g):
    for commune in g.region("Conakry").prefectures:
        assert 6 <= len(commune.quartiers) <= 12, commune.name


def test_conakry_quartiers_sit_on_the_peninsula(g):
    for commune in g.region("Conakry").prefectures:
        assert _inside(commune, PENINSULA), commune.name
        for q in commune.quartiers:
            assert _inside(q, PENINSULA), (commune.name, q.name)


def test_every_place_is_in_guinea(g):
    for region in g.regions:
        assert _inside(region, GUINEA_BOX), region.name
        for pref in region.prefectures:
            assert _inside(pref, GUINEA_BOX), pref.name
            for q in pref.quartiers:
                assert _inside(q, GUINEA_BOX), (pref.name, q.name)


def test_quartiers_stay_near_their_prefecture_centre(g):
    # A quartier placed 30 km from its town would price deliveries from the wrong place.
    for pref, q in g.all_quartiers():
        assert geo.haversine_km(pref.point, q.point) < 12, (pref.name, q.name)


def test_names_unique_within_their_parent(g):
    def keys(names):
        return [geo.normalize_name(n).replace(" ", "") for n in names]

    region_keys = keys(r.name for r in g.regions)
    assert len(set(region_keys)) == len(region_keys)
    pref_keys = keys(p.name for p in g.all_prefectures())
    assert len(set(pref_keys)) == len(pref_keys)  # unique country-wide, not just per region
    for pref in g.all_prefectures():
        q_keys = keys(q.name for q in pref.quartiers)
        assert len(set(q_keys)) == len(q_keys), pref.name


@pytest.mark.parametrize(
    ("quartier", "commune"),
    [
        ("Hamdallaye", "Ratoma"),
        ("Kipé", "Ratoma"),
        ("Taouyah", "Ratoma"),
        ("Hafia", "Dixinn"),
        ("Landréah", "Dixinn"),
        ("Madina", "Matam"),
        ("Coléah", "Matam"),
        ("Bonfi", "Matam"),
        ("Gbessia", "Matoto"),
        ("Boulbinet", "Kaloum"),
    ],
)
def test_quartiers_are_in_the_right_commune(g, quartier, commune):
    owners = [p.name for p, q in g.all_quartiers() if q.name == quartier]
    assert owners == [commune]


def test_objects_are_frozen(g):
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.regions[0].name = "x"  # type: ignore[misc]


def test_guinea_is_loaded_once():
    assert geo.guinea() is geo.guinea()


# --- names and lookups ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Nzérékoré", "nzerekore"),
        ("  KALOUM ", "kaloum"),
        ("Belle-Vue", "belle vue"),
        ("N'Zérékoré", "n zerekore"),
        ("Dar-es-Salam", "dar es salam"),
        ("Dixinn   Centre", "dixinn centre"),
        ("Guéckédou", "gueckedou"),
    ],
)
def test_normalize_name(raw, folded):
    assert geo.normalize_name(raw) == folded


def test_lookups_ignore_accents_case_and_punctuation(g):
    assert g.region("nzerekore").name == "Nzérékoré"
    assert g.region("N'Zérékoré").name == "Nzérékoré"
    assert g.region("LABE").name == "Labé"
    assert g.prefecture("KALOUM").kind == "commune"
    assert g.prefecture("forecariah").name == "Forécariah"
    assert g.quartier("kipe").name == "Kipé"
    assert g.quartier("belle vue", prefecture="dixinn").name == "Belle-Vue"
    assert g.quartier("dar es salam").name == "Dar-es-Salam"


def test_lookups_respect_the_given_parent(g):
    assert g.prefecture("labe", region="Labé").name == "Labé"
    assert g.prefecture("Kindia", region="Conakry") is None
    assert g.prefecture("Kindia", region="Atlantis") is None
    assert g.quartier("Kipé", prefecture="Kaloum") is None
    assert g.quartier("Kipé", prefecture="Nowhere") is None
    assert g.quartier("Kipé", region="Kankan") is None
    assert g.quartier("Manquepas", prefecture="Kindia").lat > 10


def test_unknown_names_give_none(g):
    assert g.region("Atlantis") is None
    assert g.prefecture("Atlantis") is None
    assert g.quartier("Atlantis") is None


def test_region_of(g):
    assert g.region_of("Siguiri").name == "Kankan"
    assert g.region_of(g.prefecture("Pita")).name == "Mamou"
    with pytest.raises(KeyError):
        g.region_of("Atlantis")


# --- distances ---------------------------------------------------------------------------


def test_haversine_point_to_itself_is_zero():
    assert geo.haversine_km((9.5, -13.7), (9.5, -13.7)) == 0


def test_haversine_one_degree_of_latitude():
    assert geo.haversine_km((0.0, 0.0), (1.0, 0.0)) == pytest.approx(111.195, abs=0.01)


def test_haversine_is_symmetric():
    a, b = (9.51, -13.71), (10.39, -9.31)
    assert geo.haversine_km(a, b) == pytest.approx(geo.haversine_km(b, a))


def test_haversine_kaloum_to_kipe(g):
    km = geo.haversine_km(g.prefecture("Kaloum").point, g.quartier("Kipé").point)
    assert 9 <= km <= 14


def test_haversine_conakry_to_kankan(g):
    km = geo.haversine_km(g.region("Conakry").point, g.region("Kankan").point)
    assert 480 <= km <= 520


# --- locate and nearest ------------------------------------------------------------------


def test_locate_prefers_a_gps_pin():
    assert geo.locate(
        region="Kankan", prefecture="Kankan", quartier="Kabada", lat=9.6, lng=-13.6
    ) == (9.6, -13.6)


def test_locate_needs_both_pin_coordinates(g):
    assert geo.locate(prefecture="Pita", lat=9.6) == g.prefecture("Pita").point


def test_locate_quartier_then_prefecture_then_region(g):
    assert geo.locate(prefecture="Ratoma", quartier="kipe") == g.quartier("Kipé").point
    assert geo.locate(quartier="Kipé") == g.quartier("Kipé").point
    # A quartier outside the given prefecture is not trusted: the prefecture centre is.
    assert geo.locate(prefecture="Kaloum", quartier="Kipé") == g.prefecture("Kaloum").point
    assert geo.locate(prefecture="Kaloum", quartier="Unlisted") == g.prefecture("Kaloum").point
    assert geo.locate(region="Labé", prefecture="Mali") == g.prefecture("Mali").point
    assert geo.locate(region="Labé", prefecture="Unknown") == g.region("Labé").point
    assert geo.locate(region="labe") == g.region("Labé").point


def test_locate_without_anything_known_is_none():
    assert geo.locate() is None
    assert geo.locate(region="Atlantis", prefecture="Nowhere", quartier="Nada") is None


def test_nearest_quartier_labels_a_pin(g):
    kipe = g.quartier("Kipé")
    pref, q = geo.nearest_quartier(kipe.lat + 0.001, kipe.lng - 0.001)
    assert (pref.name, q.name) == ("Ratoma", "Kipé")
    pref, q = geo.nearest_quartier(10.39, -9.31)
    assert pref.name == "Kankan"
