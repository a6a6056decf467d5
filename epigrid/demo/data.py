"""Fixed reference data of the demo district: names, codes and rates. Nothing here is random."""

import datetime

from faker.providers.person.en_US import Provider as EnglishNames
from faker.providers.person.zh_CN import Provider as ChineseNames

CITY = ("620100", "兰州市")
DISTRICT = ("620102", "城关区")

# Ages and birth dates are drawn relative to this fixed day, so the same seed gives the same
# resident IDs whatever day the demo is built (and no birth date lies in the future).
REFERENCE_DATE = datetime.date(2025, 7, 1)

# Streets 街道 of Lanzhou Chengguan (and a few plausible extras); codes 620102NNN000 in this order.
STREET_NAMES = [
    "九州街道",
    "酒泉路街道",
    "张掖路街道",
    "雁南街道",
    "临夏路街道",
    "雁北街道",
    "五泉街道",
    "白银路街道",
    "皋兰路街道",
    "广武门街道",
    "伏龙坪街道",
    "靖远路街道",
    "草场街街道",
    "火车站街道",
    "拱星墩街道",
    "东岗街道",
    "团结新村街道",
    "东岗西路街道",
    "铁路东村街道",
    "铁路西村街道",
    "渭源路街道",
    "盐场路街道",
    "嘉峪关路街道",
    "焦家湾街道",
    "青白石街道",
    "高新区街道",
    "雁滩街道",
    "滩尖子街道",
    "南河街道",
    "徐家山街道",
]

# Stems of community 社区 names; combined with a direction they give a few hundred names.
COMMUNITY_STEMS = [
    "民主西路",
    "秦安路",
    "畅家巷",
    "金塔巷",
    "中山林",
    "五泉山",
    "小西湖",
    "白塔山",
    "雁园",
    "南关",
    "西关",
    "鼓楼",
    "双城门",
    "水车园",
    "红山根",
    "万新",
    "大砂坪",
    "焦家湾",
    "定西路",
    "天水路",
    "平凉路",
    "庆阳路",
    "武都路",
    "永昌路",
    "静宁路",
    "颜家沟",
    "桃树坪",
    "皋兰山",
    "东方红",
    "金昌路",
    "瑞德",
    "雁宁",
    "滨河",
    "安西路",
    "曹家巷",
    "宏建",
    "农民巷",
    "一只船",
    "中街子",
    "东湖",
    "华林坪",
    "贤后街",
    "陇西路",
    "箭道巷",
    "麦积山路",
    "读者",
    "火车站东路",
    "东部市场",
    "拱星墩",
    "段家滩",
]
COMMUNITY_VARIANTS = ["", "东", "西", "南", "北", "新村"]

CHINESE_NUMERALS = "零一二三四五六七八九"

# Where resident IDs were issued. The district itself dominates; neighbours, other Gansu
# counties, other provinces (for migrants) and a few abolished codes that stay valid on cards.
HOME_REGION = DISTRICT[0]
LANZHOU_REGIONS = ["620103", "620104", "620105", "620111", "620121", "620122", "620123"]
GANSU_REGIONS = ["620402", "620502", "621102", "622901", "620802", "620602", "620902", "621202"]
ABOLISHED_REGIONS = ["622421", "622701", "620101"]
OTHER_PROVINCE_REGIONS = [
    "610102",
    "610113",
    "640104",
    "630102",
    "510107",
    "410105",
    "500103",
    "650102",
    "150102",
    "130104",
    "370102",
    "420106",
    "330106",
    "440106",
    "320106",
    "110105",
    "310115",
    "622921",
    "623001",
    "612301",
]

# Mobile prefixes that phonenumbers accepts for any 8-digit tail (checked by tests/test_demo.py),
# weighted roughly by how common they are.
PHONE_PREFIXES = (
    ["130", "131", "132", "133", "135", "136", "137", "138", "139"] * 3
    + ["150", "151", "152", "153", "155", "156", "157", "158", "159"] * 2
    + ["180", "181", "182", "183", "185", "186", "187", "188", "189"] * 2
    + ["147", "166", "176", "177", "178", "198", "199"]
)

# Passport number prefixes of the countries most residents from abroad come from.
PASSPORT_PREFIXES = ["E", "P", "K", "N", "G", "M"]

SURNAMES = list(ChineseNames.last_names.keys())
SURNAME_WEIGHTS = list(ChineseNames.last_names.values())
GIVEN_MALE = list(ChineseNames.first_names_male)
GIVEN_FEMALE = list(ChineseNames.first_names_female)
GIVEN_MALE_SINGLE = [n for n in GIVEN_MALE if len(n) == 1]
GIVEN_FEMALE_SINGLE = [n for n in GIVEN_FEMALE if len(n) == 1]
FOREIGN_FIRST_MALE = list(EnglishNames.first_names_male)
FOREIGN_FIRST_FEMALE = list(EnglishNames.first_names_female)
FOREIGN_LAST = list(EnglishNames.last_names)

# Demo users: one per role, with where the grant sits. Roles added to accounts.roles.ROLES later
# get a demo_<role> user on the district (see builder.demo_user_specs).
DEMO_PASSWORD = "epigrid-demo-2026"
DEMO_USERS = {
    "district_commander": ("demo_commander", "district"),
    "street_officer": ("demo_street", "street"),
    "community_officer": ("demo_community", "community"),
    "grid_worker": ("demo_grid", "grid"),
    "checkpoint_staff": ("demo_checkpoint", "community"),
    "sampler": ("demo_sampler", "community"),
    "lab_staff": ("demo_lab", "district"),
    "courier": ("demo_courier", "street"),
    "isolation_staff": ("demo_isolation", "district"),
    "tracer": ("demo_tracer", "district"),
    "volunteer": ("demo_volunteer", "community"),
    "enterprise_contact": ("demo_enterprise", "community"),
    "market_inspector": ("demo_market", "street"),
    "auditor": ("demo_auditor", "district"),
    "system_admin": ("demo_admin", "city"),
}

# -- key persons, zones and jobs (epigrid.demo.control, epigrid.demo.jobs) ----------------------

# Where arrivals come from: (place, how they travelled) — train, flight or car.
DOMESTIC_ORIGINS = [
    ("上海市浦东新区", "火车 G1911"),
    ("北京市朝阳区", "飞机 CA1273"),
    ("西安市雁塔区", "火车 D2673"),
    ("成都市武侯区", "飞机 3U8825"),
    ("乌鲁木齐市天山区", "火车 Z106"),
    ("西宁市城西区", "自驾 甘A·3K752"),
    ("银川市兴庆区", "火车 K1668"),
    ("广州市白云区", "飞机 CZ6919"),
    ("郑州市金水区", "火车 G2211"),
    ("天水市秦州区", "自驾 甘E·71Q20"),
]
FOREIGN_ORIGINS = [
    ("韩国首尔", "飞机 KE893"),
    ("俄罗斯莫斯科", "飞机 SU204"),
    ("泰国曼谷", "飞机 TG614"),
    ("哈萨克斯坦阿拉木图", "飞机 KC887"),
    ("阿联酋迪拜", "飞机 EK308"),
]
OCCUPATIONS = ["冷链物流从业人员", "机场地勤", "定点医院保洁", "隔离酒店工作人员", "进口货物搬运工"]
HOSPITAL_NOTES = [
    "体温38.5℃伴咳嗽，120转送兰州市肺科医院发热门诊",
    "基础病（高血压）加重，转送甘肃省人民医院就诊，院方负责期间管控",
    "核酸复检结果异常，闭环转运至兰州市第二人民医院",
    "孕晚期产检，闭环转送兰州大学第一医院",
]
RELEASE_NOTES = ["观察期满，核酸检测均为阴性，解除管控", "期满解除，已告知后续健康监测要求", ""]
EARLY_RELEASE_REASONS = {
    "open": "连续两次核酸检测阴性，经专家组研判排除疑似，解除集中隔离",
    "step": "经流调复核，不再符合管控条件，区指挥部同意提前解除",
}
HAND_OVER_NOTES = ["随子女迁至{area}居住，请接管", "返回{area}家中居住，已电话沟通", "工作调动至{area}"]
HAND_OVER_ANSWER = "已核实人员在辖区居住，接收管控"
# What was done about a fever on a past day (control.CheckIn.Outcome): (weight, note).
FOLLOW_UPS = {
    "retest_normal": (7, "半小时后复测体温36.8℃，无其他不适"),
    "reported": (2, "已报告社区卫生服务中心，医生电话随访"),
    "fever_clinic": (1, "闭环转运至发热门诊，核酸阴性后返回"),
}
SYMPTOMS = ["咳嗽", "乏力", "咽痛", "咳嗽、咽痛", "头痛、乏力", "肌肉酸痛"]
ZONE_RULES = {
    "sealed": "足不出户，服务上门",
    "controlled": "人不出区，严禁聚集",
    "precaution": "强化社会面管控，严格限制聚集",
    "high": "足不出户，上门服务，每日核酸检测",
    "medium": "人不出区，错峰取物，每日一次核酸检测",
    "low": "个人防护，避免聚集，按要求参加核酸检测",
}
LIFTING_NOTE = "连续{days}天无新增病例，已完成全员核酸检测，申请降级"
ASSISTANCE_NOTE = "疾控协查推送"
# The import the community officer ran: a tracing list from the CDC (协查名单).
IMPORT_FILENAME = "疾控协查名单.xlsx"
IMPORT_ROWS = 3  # valid rows; one more has a mistyped ID and comes back in the error report
IMPORT_ORIGIN = "城关区某超市（病例活动轨迹）"
