"""Words the sample rounds are made of: Fuzhou districts, Chinese names, enterprise brands, institutions.

All made up; any likeness to a real enterprise or person is chance. Each name
part carries its pinyin where an e-mail address or a filing number is built
from it. Vocabulary that only one programme uses lives in that programme's module.
"""
from __future__ import annotations

# (district, administrative division code in the credit code, relative frequency)
DISTRICTS = (
    ("鼓楼区", "350102", 6), ("台江区", "350103", 3), ("仓山区", "350104", 5), ("晋安区", "350111", 3),
    ("马尾区", "350105", 4), ("长乐区", "350112", 2), ("闽侯县", "350121", 4), ("连江县", "350122", 1),
    ("罗源县", "350123", 1), ("闽清县", "350124", 1), ("永泰县", "350125", 1), ("福清市", "350181", 2),
)
SURNAMES = tuple(zip("陈林黄张李王吴刘郑杨许何游江叶高周罗蔡谢", (
    "chen lin huang zhang li wang wu liu zheng yang xu he you jiang ye gao zhou luo cai xie").split()))
GIVEN = tuple((g, p) for g, p in (pair.split(":") for pair in (
    "伟:wei 静:jing 敏:min 磊:lei 婷:ting 强:qiang 芳:fang 杰:jie 斌:bin 涛:tao 鹏:peng 慧:hui 毅:yi 志强:zhiqiang "
    "建华:jianhua 晓明:xiaoming 丽娟:lijuan 文杰:wenjie 雪梅:xuemei 俊杰:junjie 秀英:xiuying 海燕:haiyan 宇航:yuhang "
    "晨曦:chenxi 思远:siyuan 佳怡:jiayi 子涵:zihan 明辉:minghui 晓婷:xiaoting 国平:guoping 春燕:chunyan 志明:zhiming "
    "晓东:xiaodong 丽萍:liping 文斌:wenbin 雅琴:yaqin 振华:zhenhua 美玲:meiling 永福:yongfu 榕生:rongsheng"
).split()))
BRAND = tuple(zip("智联瑞创星海融睿华闽榕景宏天讯博远云图灵达思腾泰安捷恒卓优锐芯源驰", (
    "zhi lian rui chuang xing hai rong rui hua min rong jing hong tian xun bo yuan yun tu ling "
    "da si teng tai an jie heng zhuo you rui xin yuan chi").split()))
# brands the characters above happen to spell that belong to well-known real enterprises (several in Fuzhou)
REAL_BRANDS = frozenset({"腾讯", "锐捷", "瑞芯", "恒安", "华安", "思源", "华创", "安捷"})
ENTERPRISE_TAILS = (
    "智能科技有限公司", "数字科技有限公司", "信息技术有限公司", "信息技术股份有限公司", "软件有限公司",
    "网络科技有限公司", "物联网科技有限公司", "视觉技术有限公司", "数据科技有限公司", "电子科技有限公司",
    "智能装备有限公司", "科技股份有限公司",
)
# (organisation, first 8 characters of its credit code, e-mail domain label)
INSTITUTIONS = (
    ("福州大学", "12350000", "fzu"), ("福建师范大学", "12350000", "fjnu"), ("闽江学院", "12350100", "mju"),
    ("福建农林大学", "12350000", "fafu"), ("福建理工大学", "12350000", "fjut"),
    ("中国科学院福建物质结构研究所", "12100000", "fjirsm"), ("福建省人工智能学会", "51350000", "fjaai"),
)
TECH = ("大模型", "多模态大模型", "机器视觉", "深度学习", "知识图谱", "边缘智能", "数字孪生", "AI智能体", "计算机视觉", "AIGC")
# (industry of a Fuzhou manufacturer, pinyin) — hardware buyers, industrial-internet projects
INDUSTRIES = (
    ("纺织化纤", "fangzhi"), ("电机电器", "dianji"), ("食品加工", "shipin"), ("冶金", "yejin"), ("建材", "jiancai"),
    ("鞋服", "xiefu"), ("汽车零部件", "qipei"), ("光电显示", "guangdian"), ("锂电新能源", "lidian"),
    ("造纸包装", "zaozhi"), ("精细化工", "huagong"), ("海洋渔业", "yuye"), ("茶叶加工", "chaye"), ("轻工家居", "jiaju"),
)
