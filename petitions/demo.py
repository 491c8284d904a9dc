"""The demo petition: the campaign's first appeal, as its original page ran it."""

# ruff: noqa: E501 -- paragraphs of prose, one per line.

TITLE_BE = "Зварот да сенатараў і Прэзідэнта ЗША датычна катаванняў палітычных зняволеных у Беларусі"
TITLE_EN = "An appeal to US senators and the President on the torture of political prisoners in Belarus"

INTRODUCTION_BE = """Важна як мага хутчэй спыніць катаванні і гвалт над палітвязнямі ў Беларусі. І пакуль усе іншыя захады могуць заняць час для дасягнення выніку — нам неабходна бесперапынна патрабаваць вызвалення вязняў.

Каб ваш голас пачулі, падпішыце петыцыю да свайго сенатара ў Кангрэсе ЗША і падпішыце петыцыю да Прэзідэнта ЗША."""

INTRODUCTION_EN = """The torture of and violence against political prisoners in Belarus must be stopped as soon as possible. While every other effort may take time to bring results, we must keep demanding, without pause, that the prisoners be released.

So that your voice is heard, sign the petition to your senators in the US Congress and the petition to the President of the United States."""

LETTER_EN = """I am writing to thank you for your support of democracy in Belarus and ask you to make the release of Belarusian political prisoners your central demand of the Lukashenko regime. To achieve this, we ask you to use sanctions on mid-level bureaucrats in law enforcement, the security apparatus, and the judiciary as leverage. The free exchange of ideas is the centerpiece of democracy and is not possible when those who disagree with the government are arrested, beaten, tortured, killed, imprisoned, or exiled.

According to the human rights center Viasna, Belarus, a country of 9.35 million people, has 471 political prisoners as of June 7, 2021. The diversion of Ryanair Flight #FR4978 and arrest followed by forced confession of journalist Raman Pratasevich is only the most internationally visible recent example of political hostage-taking. Two recent presidential candidates - Siarhei Tsikhanouski and Victor Babariko - sit in jail for challenging Alexander Lukashenko in the 2020 presidential election, as does Maria Kolesnikova, Babariko’s campaign manager and part of the female triumvirate led by Sviatlana Tsikhanouskaya that likely defeated Lukashenko in the 2020 election.

Several political prisoners have died in jail, including Vitold Ashurak. The regime knows no boundaries as it arrests and incarcerates teenagers like Mikita Zalatarou and Dmitry Stakhovsky, who committed suicide after interrogation.

The United States is the model for our modern understanding of the centrality of individual rights for a healthy democracy. The Belarusian people cannot have democracy or be free when their very words and peaceful political assembly can land them in jail. We ask that the United States, together with its allies, make it clear that failure to respect human rights and individual freedoms will result in painful economic and political costs."""

LETTER_BE = """Я пішу, каб падзякаваць вам за падтрымку дэмакратыі ў Беларусі і папрасіць вас зрабіць вызваленне беларускіх палітычных вязняў галоўным патрабаваннем да рэжыму Лукашэнкі. Дзеля гэтага мы просім вас выкарыстаць як рычаг ціску санкцыі супраць чыноўнікаў сярэдняга звяна ў праваахоўных органах, сілавых структурах і судовай сістэме. Свабодны абмен ідэямі — аснова дэмакратыі, і ён немагчымы, калі тых, хто не згодны з уладай, арыштоўваюць, б’юць, катуюць, забіваюць, кідаюць за краты або выганяюць з краіны.

Паводле праваабарончага цэнтра «Вясна», на 7 чэрвеня 2021 года ў Беларусі, краіне з насельніцтвам 9,35 мільёна чалавек, 471 палітычны вязень. Прымусовая пасадка самалёта Ryanair, рэйс FR4978, арышт журналіста Рамана Пратасевіча і яго вымушанае «прызнанне» — толькі самы вядомы ў свеце з нядаўніх прыкладаў палітычнага захопу закладнікаў. Два нядаўнія кандыдаты ў прэзідэнты — Сяргей Ціханоўскі і Віктар Бабарыка — сядзяць у турме за тое, што кінулі выклік Аляксандру Лукашэнку на прэзідэнцкіх выбарах 2020 года, як і Марыя Калеснікава, кіраўніца штаба Бабарыкі і ўдзельніца жаночага трыумвірату на чале са Святланай Ціханоўскай, які, хутчэй за ўсё, перамог Лукашэнку на выбарах 2020 года.

Некалькі палітычных вязняў загінулі за кратамі, сярод іх Вітольд Ашурак. Рэжым не ведае ніякіх межаў: ён арыштоўвае і кідае за краты нават падлеткаў, такіх як Мікіта Залатароў і Дзмітрый Стахоўскі, які скончыў жыццё самагубствам пасля допыту.

Злучаныя Штаты — узор нашага сучаснага разумення таго, наколькі важныя правы асобы для здаровай дэмакратыі. Беларускі народ не можа мець дэмакратыю і быць свабодным, калі за самі словы і мірныя палітычныя сходы людзей кідаюць у турму. Мы просім, каб Злучаныя Штаты разам са сваімі саюзнікамі ясна далі зразумець: непавага да правоў чалавека і свабод асобы абернецца адчувальнымі эканамічнымі і палітычнымі стратамі."""

PRESIDENT_ADDRESS = "The White House\n1600 Pennsylvania Avenue NW\nWashington, DC 20500"
