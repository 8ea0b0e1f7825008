"""Words people use for kinds of places ("cây xăng", "nhà nghỉ", "bến xe"), by OpenStreetMap kind.

A place is also found by the word for its kind, so "cây xăng, xã Tân Lạc" finds the
fuel stations of Tân Lạc even when they carry no name. These readings rank below a
real name (quality :data:`CATEGORY_QUALITY`).
"""

from __future__ import annotations

from typing import Final

from geocoder.normalize import fold

CATEGORY_QUALITY: Final = 0.8

PLACE_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "fuel": ("cây xăng", "trạm xăng", "xăng dầu", "petrol station"),
    "restaurant": ("nhà hàng", "quán ăn", "restaurant"),
    "fast_food": ("quán ăn nhanh", "fast food"),
    "cafe": ("quán cà phê", "cà phê", "cafe", "coffee"),
    "hotel": ("khách sạn", "hotel"),
    "guest_house": ("nhà nghỉ", "homestay"),
    "hostel": ("nhà nghỉ", "hostel"),
    "motel": ("nhà nghỉ", "motel"),
    "apartment": ("căn hộ", "apartment"),
    "school": ("trường học", "school"),
    "kindergarten": ("trường mầm non", "mầm non", "kindergarten"),
    "language_school": ("trung tâm ngoại ngữ", "language school"),
    "hospital": ("bệnh viện", "hospital"),
    "clinic": ("phòng khám", "trạm y tế", "clinic"),
    "pharmacy": ("hiệu thuốc", "nhà thuốc", "pharmacy"),
    "marketplace": ("chợ", "market"),
    "bus_station": ("bến xe", "bus station"),
    "police": ("công an", "police"),
    "post_office": ("bưu điện", "post office"),
    "atm": ("atm", "cây atm"),
    "bank": ("ngân hàng", "bank"),
    "supermarket": ("siêu thị", "supermarket"),
    "convenience": ("cửa hàng tiện lợi", "tạp hóa", "convenience store"),
    "department_store": ("cửa hàng bách hóa", "department store"),
    "place_of_worship": ("chùa", "nhà thờ", "đền", "temple", "church"),
    "museum": ("bảo tàng", "museum"),
    "viewpoint": ("điểm ngắm cảnh", "viewpoint"),
    "attraction": ("điểm du lịch", "attraction"),
    "camp_site": ("khu cắm trại", "camping"),
    "car_repair": ("sửa ô tô", "garage"),
    "motorcycle_repair": ("sửa xe máy", "sửa xe", "motorcycle repair"),
    "motorcycle": ("cửa hàng xe máy", "motorcycle shop"),
    "bicycle": ("cửa hàng xe đạp", "bicycle shop"),
    "library": ("thư viện", "library"),
    "parking": ("bãi đỗ xe", "parking"),
    "community_centre": ("nhà văn hóa", "community centre"),
    "hairdresser": ("cắt tóc", "hair salon"),
    "bakery": ("tiệm bánh", "bakery"),
    "mobile_phone": ("cửa hàng điện thoại", "mobile phone shop"),
    "travel_agency": ("đại lý du lịch", "travel agency"),
    "toilets": ("nhà vệ sinh", "toilets"),
}
"""Names for each place kind, Vietnamese first (the first one labels an unnamed place)."""


CATEGORY_FOLDED: Final = frozenset(fold(word) for words in PLACE_WORDS.values() for word in words)
"""Every word for a kind of place, folded ("tram y te"): a name matched only on one says only what
kind of place is meant, not which."""


def category_words(kind: str) -> tuple[str, ...]:
    """The words for a place kind, or () for a kind without common words.

    >>> category_words("fuel")[0], category_words("mast")
    ('cây xăng', ())
    """
    return PLACE_WORDS.get(kind, ())


def category_label(kind: str) -> str:
    """A display name for an unnamed place: its first word, capitalised, else the kind.

    >>> category_label("fuel"), category_label("water_tap")
    ('Cây xăng', 'water tap')
    """
    words = category_words(kind)
    return words[0][:1].upper() + words[0][1:] if words else kind.replace("_", " ")
