"""Jilin's administrative divisions (GB/T 2260 codes) with their Chinese and English names, pure.

Inspections, alerts and statistics keep regions as six-digit division codes, never as names: names repeat across
the country (many cities have a 朝阳区), change with reforms, and come in two languages, while a code also names its
city and province (its first four and two digits), so one stored code answers a filter at any level. Names are
looked up here for display. Codes outside Jilin are accepted as codes (six digits) and shown as codes.
"""

from __future__ import annotations

PROVINCE = "220000"

# code: (zh, en)
NAMES: dict[str, tuple[str, str]] = {
    "220000": ("吉林省", "Jilin Province"),
    "220100": ("长春市", "Changchun"),
    "220102": ("南关区", "Nanguan District"), "220103": ("宽城区", "Kuancheng District"),
    "220104": ("朝阳区", "Chaoyang District"), "220105": ("二道区", "Erdao District"),
    "220106": ("绿园区", "Lüyuan District"), "220112": ("双阳区", "Shuangyang District"),
    "220113": ("九台区", "Jiutai District"), "220122": ("农安县", "Nong'an County"),
    "220182": ("榆树市", "Yushu"), "220183": ("德惠市", "Dehui"), "220184": ("公主岭市", "Gongzhuling"),
    "220200": ("吉林市", "Jilin City"),
    "220202": ("昌邑区", "Changyi District"), "220203": ("龙潭区", "Longtan District"),
    "220204": ("船营区", "Chuanying District"), "220211": ("丰满区", "Fengman District"),
    "220221": ("永吉县", "Yongji County"), "220281": ("蛟河市", "Jiaohe"), "220282": ("桦甸市", "Huadian"),
    "220283": ("舒兰市", "Shulan"), "220284": ("磐石市", "Panshi"),
    "220300": ("四平市", "Siping"),
    "220302": ("铁西区", "Tiexi District"), "220303": ("铁东区", "Tiedong District"),
    "220322": ("梨树县", "Lishu County"), "220323": ("伊通满族自治县", "Yitong Manchu Autonomous County"),
    "220382": ("双辽市", "Shuangliao"),
    "220400": ("辽源市", "Liaoyuan"),
    "220402": ("龙山区", "Longshan District"), "220403": ("西安区", "Xi'an District"),
    "220421": ("东丰县", "Dongfeng County"), "220422": ("东辽县", "Dongliao County"),
    "220500": ("通化市", "Tonghua"),
    "220502": ("东昌区", "Dongchang District"), "220503": ("二道江区", "Erdaojiang District"),
    "220521": ("通化县", "Tonghua County"), "220523": ("辉南县", "Huinan County"),
    "220524": ("柳河县", "Liuhe County"), "220581": ("梅河口市", "Meihekou"), "220582": ("集安市", "Ji'an"),
    "220600": ("白山市", "Baishan"),
    "220602": ("浑江区", "Hunjiang District"), "220605": ("江源区", "Jiangyuan District"),
    "220621": ("抚松县", "Fusong County"), "220622": ("靖宇县", "Jingyu County"),
    "220623": ("长白朝鲜族自治县", "Changbai Korean Autonomous County"), "220681": ("临江市", "Linjiang"),
    "220700": ("松原市", "Songyuan"),
    "220702": ("宁江区", "Ningjiang District"),
    "220721": ("前郭尔罗斯蒙古族自治县", "Qian Gorlos Mongol Autonomous County"),
    "220722": ("长岭县", "Changling County"), "220723": ("乾安县", "Qian'an County"), "220781": ("扶余市", "Fuyu"),
    "220800": ("白城市", "Baicheng"),
    "220802": ("洮北区", "Taobei District"), "220821": ("镇赉县", "Zhenlai County"),
    "220822": ("通榆县", "Tongyu County"), "220881": ("洮南市", "Taonan"), "220882": ("大安市", "Da'an"),
    "222400": ("延边朝鲜族自治州", "Yanbian Korean Autonomous Prefecture"),
    "222401": ("延吉市", "Yanji"), "222402": ("图们市", "Tumen"), "222403": ("敦化市", "Dunhua"),
    "222404": ("珲春市", "Hunchun"), "222405": ("龙井市", "Longjing"), "222406": ("和龙市", "Helong"),
    "222424": ("汪清县", "Wangqing County"), "222426": ("安图县", "Antu County"),
}


def valid_code(code: str) -> bool:
    """Tell whether a code can be a division code: six digits; inside Jilin, one of Jilin's divisions."""
    if len(code) != 6 or not code.isdigit() or code[:2] in ("00", "99"):
        return False
    return code in NAMES if code.startswith("22") else True


def name_of(code: str | None, lang: str = "zh") -> str | None:
    """The division's name in a language (zh or en), or None when the code is not one of Jilin's."""
    names = NAMES.get(code or "")
    return None if names is None else names[0 if lang == "zh" else 1]
