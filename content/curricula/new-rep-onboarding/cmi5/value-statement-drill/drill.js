/* Value statement drill: a cmi5 Assignable Unit. Plain browser JavaScript, no build step; the
 * cmi5 handshake (fetch token, LMS.LaunchData, learner preferences, initialized … terminated) is
 * @xapi/cmi5's (vendor/cmi5.umd.js). */
(function () {
  'use strict';

  var QUESTIONS = [
    {
      buyer: 'A service VP whose technicians miss SLA windows on key contracts',
      options: [
        'Crewline has the most advanced AI routing engine on the market.',
        'Service leaders like you use Crewline to send the right qualified technician first, so SLA windows on key contracts stop slipping.',
        'Crewline integrates with over 40 ERP and CRM systems.'
      ],
      right: 1,
      why: 'It starts from the buyer\'s problem (missed SLAs) and names the outcome, not a feature.'
    },
    {
      buyer: 'A dispatch manager whose team rebuilds the schedule by hand every morning',
      options: [
        'Dispatch managers tell us they get their first two hours back each day, because Auto-Route rebuilds the board in seconds when jobs change.',
        'Our dispatch board has drag-and-drop, colour coding and 12 map layers.',
        'Crewline is rated 4.8 stars on review sites.'
      ],
      right: 0,
      why: 'It is specific to the persona\'s pain and quantifies the benefit.'
    },
    {
      buyer: 'A CFO worried about the cost of repeat truck rolls',
      options: [
        'Crewline is cheaper than the leading competitor.',
        'We offer flexible monthly billing.',
        'Companies like yours cut repeat visits by about 200 a month, roughly $40,000, by fixing it the first time.'
      ],
      right: 2,
      why: 'A CFO buys outcomes in money: the statement links the problem to a measurable result.'
    },
    {
      buyer: 'An operations director who fears a painful change for dispatchers',
      options: [
        'Change is always hard, but worth it.',
        'Most teams are live in six weeks: dispatchers keep their board layout, and we train them on their own jobs, so the change pain stays small.',
        'Our implementation methodology has seven phases.'
      ],
      right: 1,
      why: 'It addresses change pain, the part of the value equation buyers rarely say out loud.'
    }
  ];

  var status = document.getElementById('status');
  var form = document.getElementById('drill');
  var questions = document.getElementById('questions');
  var submit = document.getElementById('submit');
  var result = document.getElementById('result');

  function say(text) { status.textContent = text; }

  function render() {
    QUESTIONS.forEach(function (q, i) {
      var fs = document.createElement('fieldset');
      var legend = document.createElement('legend');
      legend.textContent = (i + 1) + '. ' + q.buyer;
      fs.appendChild(legend);
      q.options.forEach(function (text, j) {
        var label = document.createElement('label');
        var input = document.createElement('input');
        input.type = 'radio';
        input.name = 'q' + i;
        input.value = String(j);
        input.required = true;
        label.appendChild(input);
        label.appendChild(document.createTextNode(' ' + text));
        fs.appendChild(label);
      });
      questions.appendChild(fs);
    });
  }

  async function start() {
    if (!window.Cmi5 || !Cmi5.isCmiAvailable) {
      say('This drill runs when it is launched from Onramp (cmi5 launch parameters are missing).');
      return;
    }
    var cmi5 = Cmi5.instance;
    try {
      await cmi5.initialize();
    } catch (err) {
      say('Could not connect to Onramp: ' + (err && err.message ? err.message : err) + '. Close this page and launch the drill again.');
      return;
    }
    var launch = cmi5.getLaunchData();
    var mastery = typeof launch.masteryScore === 'number' ? launch.masteryScore : 0.75;
    var back = document.getElementById('back');
    back.href = launch.returnURL || '#';
    render();
    form.hidden = false;
    say(launch.launchMode === 'Normal' ? 'Connected. Your result is recorded in Onramp.' : 'Review mode: your answers are not recorded.');

    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      submit.disabled = true;
      var correct = 0;
      var list = document.getElementById('feedback');
      QUESTIONS.forEach(function (q, i) {
        var chosen = form.querySelector('input[name="q' + i + '"]:checked');
        var ok = chosen && Number(chosen.value) === q.right;
        if (ok) correct++;
        var li = document.createElement('li');
        li.className = ok ? 'right' : 'wrong';
        li.textContent = (ok ? 'Right: ' : 'Not quite: ') + q.why;
        list.appendChild(li);
      });
      var scaled = correct / QUESTIONS.length;
      var passed = scaled >= mastery;
      try {
        if (launch.launchMode === 'Normal') {
          var score = { scaled: scaled, raw: correct, min: 0, max: QUESTIONS.length };
          if (passed) await cmi5.pass(score); else await cmi5.fail(score);
          // a registration completes an AU once: on a later try Onramp refuses a second "completed"
          await cmi5.complete().catch(function () { return undefined; });
        }
        await cmi5.terminate();
      } catch (err) {
        say('Your answers could not be recorded: ' + (err && err.message ? err.message : err) + '. Launch the drill again from Onramp.');
        return;
      }
      form.hidden = true;
      document.getElementById('result-title').textContent = passed ? 'Passed: ' + correct + ' of ' + QUESTIONS.length : 'Not yet: ' + correct + ' of ' + QUESTIONS.length;
      document.getElementById('result-text').textContent = passed
        ? 'Well done. Onramp has your result; the module is complete.'
        : 'You need ' + Math.ceil(mastery * QUESTIONS.length) + ' of ' + QUESTIONS.length + '. Review the lesson, then launch the drill again.';
      result.hidden = false;
      say('Recorded.');
    });
  }

  start();
})();
